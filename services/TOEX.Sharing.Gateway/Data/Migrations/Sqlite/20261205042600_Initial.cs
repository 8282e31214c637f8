using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TOEX.Sharing.Gateway.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Feed",
                columns: table => new
                {
                    Cursor = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Recipient = table.Column<string>(type: "TEXT", nullable: false),
                    Position = table.Column<long>(type: "INTEGER", nullable: false),
                    PackageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", nullable: false),
                    Sealed = table.Column<string>(type: "TEXT", nullable: false),
                    ReleasedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    AcknowledgedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    AcknowledgedBy = table.Column<string>(type: "TEXT", nullable: true),
                    DeliveredAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    WithdrawnAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Feed", x => x.Cursor);
                });

            migrationBuilder.CreateTable(
                name: "Outbox",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    MessageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    MessageType = table.Column<string>(type: "TEXT", nullable: false),
                    Body = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    SentAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    ConfirmedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    TraceParent = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Outbox", x => x.Sequence);
                });

            migrationBuilder.CreateTable(
                name: "Submissions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Reference = table.Column<string>(type: "TEXT", nullable: false),
                    Originator = table.Column<string>(type: "TEXT", nullable: false),
                    ContentHash = table.Column<string>(type: "TEXT", nullable: false),
                    SubmittedBy = table.Column<string>(type: "TEXT", nullable: false),
                    SubmittedByPerson = table.Column<string>(type: "TEXT", nullable: true),
                    SubmittedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    PackageJson = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", nullable: false),
                    Published = table.Column<bool>(type: "INTEGER", nullable: false),
                    PolicyVersion = table.Column<string>(type: "TEXT", nullable: true),
                    DecidedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    DecisionJws = table.Column<string>(type: "TEXT", nullable: true),
                    RejectionReason = table.Column<string>(type: "TEXT", nullable: true),
                    RecalledAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    Version = table.Column<long>(type: "INTEGER", nullable: false),
                    RecalledBy = table.Column<string>(type: "TEXT", nullable: true),
                    RecallReason = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Submissions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "WebhookEndpoints",
                columns: table => new
                {
                    Partner = table.Column<string>(type: "TEXT", nullable: false),
                    DisabledAtUnixMs = table.Column<long>(type: "INTEGER", nullable: true),
                    DisabledReason = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebhookEndpoints", x => x.Partner);
                });

            migrationBuilder.CreateTable(
                name: "Webhooks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Recipient = table.Column<string>(type: "TEXT", nullable: false),
                    PackageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", nullable: false),
                    FeedCursor = table.Column<long>(type: "INTEGER", nullable: false),
                    State = table.Column<string>(type: "TEXT", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    Retries = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAtUnixMs = table.Column<long>(type: "INTEGER", nullable: false),
                    NextAttemptAtUnixMs = table.Column<long>(type: "INTEGER", nullable: false),
                    HorizonEndsAtUnixMs = table.Column<long>(type: "INTEGER", nullable: false),
                    LeaseUntilUnixMs = table.Column<long>(type: "INTEGER", nullable: true),
                    DeliveredAtUnixMs = table.Column<long>(type: "INTEGER", nullable: true),
                    LastStatusCode = table.Column<int>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", nullable: true),
                    TraceParent = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Webhooks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Recipients",
                columns: table => new
                {
                    PackageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Partner = table.Column<string>(type: "TEXT", nullable: false),
                    Position = table.Column<int>(type: "INTEGER", nullable: false),
                    Outcome = table.Column<string>(type: "TEXT", nullable: true),
                    Agreement = table.Column<string>(type: "TEXT", nullable: true),
                    ReasonsJson = table.Column<string>(type: "TEXT", nullable: true),
                    ObligationsJson = table.Column<string>(type: "TEXT", nullable: true),
                    DeliveryState = table.Column<string>(type: "TEXT", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", nullable: true),
                    ReleasedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    DeliveredAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    AcknowledgedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    AcknowledgementDueAtUnixMs = table.Column<long>(type: "INTEGER", nullable: true),
                    OverdueAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    RecallAction = table.Column<string>(type: "TEXT", nullable: true),
                    RecallAcknowledgedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    ReferralId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ReferralDecision = table.Column<string>(type: "TEXT", nullable: true),
                    ReferralDecidedBy = table.Column<string>(type: "TEXT", nullable: true),
                    ReferralJustification = table.Column<string>(type: "TEXT", nullable: true),
                    ReferralDecidedAt = table.Column<DateTimeOffset>(type: "TEXT", nullable: true),
                    ReferredAtUnixMs = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Recipients", x => new { x.PackageId, x.Partner });
                    table.ForeignKey(
                        name: "FK_Recipients_Submissions_PackageId",
                        column: x => x.PackageId,
                        principalTable: "Submissions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Feed_Recipient_Cursor",
                table: "Feed",
                columns: new[] { "Recipient", "Cursor" });

            migrationBuilder.CreateIndex(
                name: "IX_Feed_Recipient_PackageId_Kind",
                table: "Feed",
                columns: new[] { "Recipient", "PackageId", "Kind" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Feed_Recipient_Position",
                table: "Feed",
                columns: new[] { "Recipient", "Position" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Outbox_ConfirmedAt_Sequence",
                table: "Outbox",
                columns: new[] { "ConfirmedAt", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_Outbox_MessageId",
                table: "Outbox",
                column: "MessageId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Outbox_SentAt",
                table: "Outbox",
                column: "SentAt");

            migrationBuilder.CreateIndex(
                name: "IX_Recipients_AcknowledgementDueAtUnixMs",
                table: "Recipients",
                column: "AcknowledgementDueAtUnixMs");

            migrationBuilder.CreateIndex(
                name: "IX_Recipients_DeliveryState",
                table: "Recipients",
                column: "DeliveryState");

            migrationBuilder.CreateIndex(
                name: "IX_Recipients_ReferralId",
                table: "Recipients",
                column: "ReferralId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Submissions_Originator_Reference",
                table: "Submissions",
                columns: new[] { "Originator", "Reference" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Webhooks_Recipient_PackageId_Kind",
                table: "Webhooks",
                columns: new[] { "Recipient", "PackageId", "Kind" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Webhooks_State_NextAttemptAtUnixMs",
                table: "Webhooks",
                columns: new[] { "State", "NextAttemptAtUnixMs" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Feed");

            migrationBuilder.DropTable(
                name: "Outbox");

            migrationBuilder.DropTable(
                name: "Recipients");

            migrationBuilder.DropTable(
                name: "WebhookEndpoints");

            migrationBuilder.DropTable(
                name: "Webhooks");

            migrationBuilder.DropTable(
                name: "Submissions");
        }
    }
}
