using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace TOEX.Sharing.Audit.Console;

/// <summary>One named series of a chart: a value per category, drawn in one colour and named in the legend.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<int> Values);

/// <summary>
/// Stacked bar charts drawn by the service as SVG (no script, no library, nothing fetched): an image with a title and
/// a description for assistive technology (role img, aria-labelledby), each series named in a legend beside its colour,
/// each bar segment with a tooltip title. Every chart is also given as a table on the page.
/// </summary>
public static class SvgChart
{
    /// <summary>Colours distinguishable by most colour-blind readers (Okabe–Ito), each at least 3:1 against white.</summary>
    private static readonly string[] Palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8F6A00", "#56B4E9", "#505a5f", "#E69F00"];

    public static string StackedBars(string id, string title, string description, IReadOnlyList<string> categories, IReadOnlyList<ChartSeries> series,
        string unit)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        const int left = 48, top = 16, plotHeight = 220, bottom = 56, legendRow = 22;
        var band = Math.Max(28, Math.Min(64, 760 / Math.Max(1, categories.Count)));
        var plotWidth = band * Math.Max(1, categories.Count);
        var width = left + plotWidth + 16;
        var legendTop = top + plotHeight + bottom;
        var height = legendTop + legendRow * ((series.Count + 2) / 3) + 8;
        var totals = categories.Select((_, i) => series.Sum(s => s.Values[i])).ToList();
        var max = Math.Max(1, totals.DefaultIfEmpty(0).Max());
        var step = NiceStep(max);
        var ceiling = (int)Math.Ceiling(max / (double)step) * step;
        double Y(double value) => top + plotHeight - value / ceiling * plotHeight;

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title id=\"{id}-title\">{E(title)}</title><desc id=\"{id}-desc\">{E(description)}</desc>");
        for (var tick = 0; tick <= ceiling; tick += step)
        {
            var y = Y(tick);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{left + plotWidth}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#b1b4b6\" stroke-width=\"1\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" fill=\"#0b0c0c\">{tick}</text>");
        }
        for (var i = 0; i < categories.Count; i++)
        {
            var x = left + i * band + band * 0.15;
            var w = band * 0.7;
            var stacked = 0;
            for (var s = 0; s < series.Count; s++)
            {
                var value = series[s].Values[i];
                if (value == 0)
                {
                    continue;
                }
                var y0 = Y(stacked);
                var y1 = Y(stacked + value);
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{y1:0.#}\" width=\"{w:0.#}\" height=\"{y0 - y1:0.#}\" fill=\"{Palette[s % Palette.Length]}\" stroke=\"#fff\" stroke-width=\"1\"><title>{E($"{categories[i]}: {series[s].Name}, {value} {unit}")}</title></rect>");
                stacked += value;
            }
            if (totals[i] > 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + w / 2:0.#}\" y=\"{Y(totals[i]) - 4:0.#}\" text-anchor=\"middle\" fill=\"#0b0c0c\">{totals[i]}</text>");
            }
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + w / 2:0.#}\" y=\"{top + plotHeight + 16}\" text-anchor=\"end\" transform=\"rotate(-35 {x + w / 2:0.#} {top + plotHeight + 16})\" fill=\"#0b0c0c\">{E(categories[i])}</text>");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{left + plotWidth}\" y1=\"{top + plotHeight}\" y2=\"{top + plotHeight}\" stroke=\"#0b0c0c\" stroke-width=\"2\"/>");
        for (var s = 0; s < series.Count; s++)
        {
            var lx = left + (s % 3) * 220;
            var ly = legendTop + (s / 3) * legendRow;
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{lx}\" y=\"{ly}\" width=\"14\" height=\"14\" fill=\"{Palette[s % Palette.Length]}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{lx + 20}\" y=\"{ly + 12}\" fill=\"#0b0c0c\">{E(series[s].Name)} ({series[s].Values.Sum()})</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static readonly int[] Multiples = [1, 2, 5, 10];

    private static int NiceStep(int max)
    {
        var raw = Math.Max(1, max / 5.0);
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = Multiples.Select(m => m * magnitude).First(s => s >= raw);
        return Math.Max(1, (int)step);
    }

    private static string E(string text) => HtmlEncoder.Default.Encode(text);
}
