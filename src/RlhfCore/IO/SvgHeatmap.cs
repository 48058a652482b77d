using System.Globalization;
using System.Xml.Linq;

namespace RlhfCore.IO;

/// <summary>
/// A plain SVG heatmap (rows × columns of coloured cells) with row labels, a few column labels, a title and a colour
/// legend (a gradient bar with its scale's ends and middle), in the manner of <see cref="SvgChart"/>: built with
/// <see cref="XDocument"/>, so always well-formed XML with all text escaped. Each row is one <c>&lt;g class="row"&gt;</c>
/// holding its label and cells; a missing or non-finite value is a grey cell. The colour scale is logarithmic (log10)
/// when every finite value is positive and they span more than two decades, else linear.
/// </summary>
public static class SvgHeatmap
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    // A perceptually ordered ramp (viridis' ends and three inner stops): dark blue for the smallest values, yellow for the largest.
    private static readonly (double R, double G, double B)[] Ramp = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)];
    private const double CharWidth = 7.2, Top = 44, Bottom = 70, Right = 20, RowHeight = 14;
    /// <summary>Columns drawn at most: wider inputs show every k-th column so a file stays small.</summary>
    public const int MaxColumns = 500;

    /// <summary>The heatmap of <paramref name="values"/>[row][column] as an SVG document.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="rowLabels">One label per row.</param>
    /// <param name="columnLabels">One label per column (for example the step); a few are drawn under the cells.</param>
    /// <param name="values">Rows of values, each as long as <paramref name="columnLabels"/>; null is "no value".</param>
    /// <param name="xLabel">The column axis label.</param>
    /// <param name="width">Width of the cell area in pixels.</param>
    public static XDocument Render(string title, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, IReadOnlyList<IReadOnlyList<double?>> values,
        string xLabel, int width = 720)
    {
        if (rowLabels.Count != values.Count) throw new ArgumentException($"{rowLabels.Count} row labels for {values.Count} rows", nameof(rowLabels));
        foreach (var r in values)
            if (r.Count != columnLabels.Count) throw new ArgumentException($"a row of {r.Count} values for {columnLabels.Count} columns", nameof(values));
        int stride = Math.Max(1, (columnLabels.Count + MaxColumns - 1) / MaxColumns);
        int[] columns = [.. Enumerable.Range(0, columnLabels.Count).Where(c => c % stride == 0)];
        var finite = values.SelectMany(r => columns.Select(c => r[c])).Where(v => v is double x && double.IsFinite(x)).Select(v => v!.Value).ToList();
        double lo = finite.Count > 0 ? finite.Min() : 0, hi = finite.Count > 0 ? finite.Max() : 1;
        bool log = lo > 0 && hi / lo > 100;
        double a = log ? Math.Log10(lo) : lo, b = log ? Math.Log10(hi) : hi;
        if (b <= a) b = a + 1;
        double Position(double v) => Math.Clamp(((log ? Math.Log10(v) : v) - a) / (b - a), 0, 1);

        double left = 12 + CharWidth * Math.Max(4, rowLabels.Count == 0 ? 0 : rowLabels.Max(l => l.Length));
        double cellW = (double)width / Math.Max(1, columns.Length), plotH = RowHeight * rowLabels.Count;
        int totalW = (int)(left + width + Right), totalH = (int)(Top + plotH + Bottom);
        var root = new XElement(Svg + "svg",
            new XAttribute("width", totalW), new XAttribute("height", totalH), new XAttribute("viewBox", $"0 0 {totalW} {totalH}"),
            new XAttribute("font-family", "sans-serif"), new XAttribute("font-size", 11),
            new XElement(Svg + "rect", new XAttribute("width", totalW), new XAttribute("height", totalH), new XAttribute("fill", "white")),
            Text(totalW / 2.0, 24, title, "middle", 15));

        for (int r = 0; r < rowLabels.Count; r++)
        {
            double y = Top + r * RowHeight;
            var row = new XElement(Svg + "g", new XAttribute("class", "row"), new XAttribute("data-label", rowLabels[r]),
                Text(left - 6, y + RowHeight - 3, rowLabels[r], "end"));
            for (int k = 0; k < columns.Length; k++)
            {
                double? v = values[r][columns[k]];
                string fill = v is double x && double.IsFinite(x) ? Colour(Position(x)) : "#d0d0d0";
                row.Add(new XElement(Svg + "rect", new XAttribute("x", F(left + k * cellW)), new XAttribute("y", F(y)),
                    new XAttribute("width", F(cellW + 0.05)), new XAttribute("height", F(RowHeight)), new XAttribute("fill", fill)));
            }
            root.Add(row);
        }
        int ticks = Math.Min(6, columns.Length);
        for (int t = 0; t < ticks; t++)
        {
            int k = ticks == 1 ? 0 : (int)Math.Round((double)t * (columns.Length - 1) / (ticks - 1));
            root.Add(Text(left + (k + 0.5) * cellW, Top + plotH + 14, columnLabels[columns[k]], "middle"));
        }
        root.Add(Text(left + width / 2.0, Top + plotH + 30, stride > 1 ? $"{xLabel} (every {stride}th recorded column shown)" : xLabel, "middle"));
        root.Add(Legend(left, Top + plotH + 40, Math.Min(width, 320), a, b, log));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    /// <summary>Renders the heatmap and writes it to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, string title, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, IReadOnlyList<IReadOnlyList<double?>> values, string xLabel)
    {
        var doc = Render(title, rowLabels, columnLabels, values, xLabel);
        AtomicFile.Write(path, fs => doc.Save(fs));
    }

    /// <summary>The colour bar: the ramp as a gradient, with the scale's two ends and its middle written under it.</summary>
    private static XElement Legend(double x, double y, double w, double a, double b, bool log)
    {
        var gradient = new XElement(Svg + "linearGradient", new XAttribute("id", "ramp"));
        for (int i = 0; i < Ramp.Length; i++)
            gradient.Add(new XElement(Svg + "stop", new XAttribute("offset", F(100.0 * i / (Ramp.Length - 1)) + "%"), new XAttribute("stop-color", Colour((double)i / (Ramp.Length - 1)))));
        string Label(double t) => (log ? Math.Pow(10, t) : t).ToString("G3", CultureInfo.InvariantCulture);
        return new XElement(Svg + "g", new XAttribute("class", "legend"),
            new XElement(Svg + "defs", gradient),
            new XElement(Svg + "rect", new XAttribute("x", F(x)), new XAttribute("y", F(y)), new XAttribute("width", F(w)), new XAttribute("height", 10),
                new XAttribute("fill", "url(#ramp)"), new XAttribute("stroke", "#808080")),
            Text(x, y + 22, Label(a), "start"),
            Text(x + w / 2, y + 22, Label((a + b) / 2), "middle"),
            Text(x + w, y + 22, Label(b), "end"),
            Text(x + w + 8, y + 9, log ? "(log10 scale)" : "(linear scale)", "start"));
    }

    /// <summary>The ramp's colour at <paramref name="t"/> ∈ [0, 1], interpolated linearly between its stops.</summary>
    private static string Colour(double t)
    {
        double s = t * (Ramp.Length - 1);
        int i = Math.Min(Ramp.Length - 2, (int)s);
        double f = s - i;
        var (r0, g0, b0) = Ramp[i];
        var (r1, g1, b1) = Ramp[i + 1];
        return $"#{(int)Math.Round(r0 + f * (r1 - r0)):x2}{(int)Math.Round(g0 + f * (g1 - g0)):x2}{(int)Math.Round(b0 + f * (b1 - b0)):x2}";
    }

    private static XElement Text(double x, double y, string text, string anchor, int size = 11) =>
        new(Svg + "text", new XAttribute("x", F(x)), new XAttribute("y", F(y)), new XAttribute("text-anchor", anchor), new XAttribute("font-size", size), text);

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
