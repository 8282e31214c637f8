namespace TOEX.Sharing.Policy.Tests;

public sealed class AgreementReviewTests
{
    private static Agreement Nhs => Shipped.Set.Agreements["ISA-NHS-004"];

    private static string[] Codes(string today) =>
        [.. AgreementReview.Warnings(Nhs, DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture)).Select(w => w.Code)];

    [Fact]
    public void Warns_of_a_review_due_within_60_days_counting_the_60th_day()
    {
        // ISA-NHS-004: review due 2026-03-01, valid to 2026-06-30.
        Assert.Empty(Codes("2025-12-30"));
        Assert.Equal(["review-due-soon"], Codes("2025-12-31"));
        Assert.Equal(["review-due-soon"], Codes("2026-03-01"));
    }

    [Fact]
    public void Warns_of_an_overdue_review_and_an_expiry_within_60_days()
    {
        Assert.Equal(["review-overdue"], Codes("2026-03-02"));
        Assert.Equal(["expires-soon", "review-overdue"], Codes("2026-05-01"));
        Assert.Equal(["expires-soon", "review-overdue"], Codes("2026-06-30"));
        Assert.Equal(["expired", "review-overdue"], Codes("2026-07-01"));
    }

    [Fact]
    public void Says_nothing_of_a_terminated_agreement()
    {
        Assert.Empty(AgreementReview.Warnings(Nhs with { Status = "terminated" }, new DateOnly(2026, 7, 1)));
    }
}
