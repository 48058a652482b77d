using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace RlhfCore.IO;

/// <summary>How a series is drawn.</summary>
public enum ChartStyle
{
    /// <summary>A line through the points in order; non-finite values break it.</summary>
    Line,
    /// <summary>One dot per point, unjoined (a scatter).</summary>
    Points,
}

/// <summary>One series of a chart.</summary>
/// <param name="Name">Legend label.</param>
/// <param name="Points">(x, y) points (in x order for a line); non-finite values break a line and are left out of a scatter.</param>
/// <param name="Style">Line or scatter.</param>
/// <param name="Color">Palette index (−1 = the series' position in the panel).</param>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, ChartStyle Style = ChartStyle.Line, int Color = -1);

/// <summary>One plot of a chart: its own y axis (its own units) over the chart's shared x axis.</summary>
/// <param name="YLabel">The y axis label, with its units.</param>
/// <param name="Series">What the panel draws.</param>
public sealed record ChartPanel(string YLabel, IReadOnlyList<ChartSeries> Series);

/// <summary>
/// Plain SVG charts (loss and reward curves, scatters with fitted curves) with no plotting library: axes
/// with "nice" 1-2-5 ticks (whole numbers only, when asked, for counts such as rounds), axis labels, a
/// title, and a legend sized to its longest label and drawn inside the plot frame. Quantities in different
/// units go in stacked panels that share the x axis, each with its own y axis. Built with
/// <see cref="XDocument"/>, so the output is always well-formed XML with all text escaped.
/// </summary>
public static class SvgChart
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    private const double Left = 78, Right = 20, Top = 40, Bottom = 50, PanelGap = 36;
    // Width of one character at font-size 12 in a sans-serif face, generously rounded up so labels never overflow the legend box.
    private const double CharWidth = 7.2;

    /// <summary>A one-panel chart as an SVG document.</summary>
    public static XDocument Render(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, int width = 720, int height = 420,
        bool integerX = false) =>
        RenderPanels(title, xLabel, [new ChartPanel(yLabel, series)], width, height, integerX);

    /// <summary>
    /// A chart of <paramref name="panels"/> stacked top to bottom over one x axis, as an SVG document;
    /// <paramref name="height"/> is per panel. With <paramref name="integerX"/> the x ticks are whole numbers.
    /// </summary>
    public static XDocument RenderPanels(string title, string xLabel, IReadOnlyList<ChartPanel> panels, int width = 720, int height = 420, bool integerX = false)
    {
        if (panels.Count == 0) throw new ArgumentException("a chart needs at least one panel", nameof(panels));
        double plotW = width - Left - Right, plotH = height - Top - Bottom;
        int total = (int)(Top + panels.Count * plotH + (panels.Count - 1) * PanelGap + Bottom);
        var all = panels.SelectMany(p => p.Series).SelectMany(s => s.Points).Where(Finite).ToList();
        var (x0, x1) = Range(all.Select(p => p.X));
        var xTicks = Ticks(ref x0, ref x1, integerX);
        double Px(double x) => Left + (x - x0) / (x1 - x0) * plotW;

        var root = new XElement(Svg + "svg",
            new XAttribute("width", width), new XAttribute("height", total),
            new XAttribute("viewBox", $"0 0 {width} {total}"), new XAttribute("font-family", "sans-serif"), new XAttribute("font-size", 12),
            new XElement(Svg + "rect", new XAttribute("width", width), new XAttribute("height", total), new XAttribute("fill", "white")),
            Text(width / 2.0, 24, title, "middle", 16),
            Text(Left + plotW / 2, total - 10, xLabel, "middle"));

        for (int pi = 0; pi < panels.Count; pi++)
        {
            var panel = panels[pi];
            double top = Top + pi * (plotH + PanelGap);
            var (y0, y1) = Range(panel.Series.SelectMany(s => s.Points).Where(Finite).Select(p => p.Y));
            var yTicks = Ticks(ref y0, ref y1, integer: false);
            double Py(double y) => top + plotH - (y - y0) / (y1 - y0) * plotH;

            root.Add(new XElement(Svg + "text", new XAttribute("transform", $"translate(16 {F(top + plotH / 2)}) rotate(-90)"),
                new XAttribute("text-anchor", "middle"), panel.YLabel));
            foreach (double t in xTicks)
            {
                root.Add(Line(Px(t), top, Px(t), top + plotH, "#e0e0e0"));
                root.Add(Text(Px(t), top + plotH + 16, Label(t), "middle"));
            }
            foreach (double t in yTicks)
            {
                root.Add(Line(Left, Py(t), Left + plotW, Py(t), "#e0e0e0"));
                root.Add(Text(Left - 6, Py(t) + 4, Label(t), "end"));
            }
            root.Add(Line(Left, top + plotH, Left + plotW, top + plotH, "black"));
            root.Add(Line(Left, top, Left, top + plotH, "black"));

            for (int i = 0; i < panel.Series.Count; i++)
            {
                var s = panel.Series[i];
                string color = Palette[(s.Color >= 0 ? s.Color : i) % Palette.Length];
                if (s.Style == ChartStyle.Points)
                {
                    foreach (var p in s.Points.Where(Finite))
                        root.Add(new XElement(Svg + "circle", new XAttribute("cx", F(Px(p.X))), new XAttribute("cy", F(Py(p.Y))),
                            new XAttribute("r", 2.5), new XAttribute("fill", color), new XAttribute("fill-opacity", 0.7)));
                    continue;
                }
                string d = PathData(s.Points, Px, Py);
                if (d.Length > 0)
                    root.Add(new XElement(Svg + "path", new XAttribute("d", d), new XAttribute("fill", "none"),
                        new XAttribute("stroke", color), new XAttribute("stroke-width", 1.5)));
            }
            root.Add(Legend(panel.Series, Left + plotW, top));
        }
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    /// <summary>The legend: a white box in the panel's top-right corner, inside the frame, wide enough for its longest label.</summary>
    private static XElement Legend(IReadOnlyList<ChartSeries> series, double right, double top)
    {
        var g = new XElement(Svg + "g", new XAttribute("class", "legend"));
        if (series.Count == 0) return g;
        double w = 40 + CharWidth * series.Max(s => s.Name.Length), h = 8 + 16 * series.Count, x = right - w - 6, y = top + 6;
        g.Add(new XElement(Svg + "rect", new XAttribute("x", F(x)), new XAttribute("y", F(y)), new XAttribute("width", F(w)), new XAttribute("height", F(h)),
            new XAttribute("fill", "white"), new XAttribute("fill-opacity", 0.85), new XAttribute("stroke", "#c0c0c0")));
        for (int i = 0; i < series.Count; i++)
        {
            string color = Palette[(series[i].Color >= 0 ? series[i].Color : i) % Palette.Length];
            double ly = y + 12 + 16 * i;
            if (series[i].Style == ChartStyle.Points)
                g.Add(new XElement(Svg + "circle", new XAttribute("cx", F(x + 16)), new XAttribute("cy", F(ly)), new XAttribute("r", 3.5), new XAttribute("fill", color)));
            else g.Add(Line(x + 6, ly, x + 26, ly, color, 2));
            g.Add(Text(x + 32, ly + 4, series[i].Name, "start"));
        }
        return g;
    }

    /// <summary>Renders the one-panel chart and writes it to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, int width = 720, int height = 420,
        bool integerX = false)
    {
        var doc = Render(title, xLabel, yLabel, series, width, height, integerX);
        AtomicFile.Write(path, fs => doc.Save(fs));
    }

    /// <summary>Renders the panels and writes them to <paramref name="path"/> atomically.</summary>
    public static void WritePanels(string path, string title, string xLabel, IReadOnlyList<ChartPanel> panels, int width = 720, int height = 340, bool integerX = false)
    {
        var doc = RenderPanels(title, xLabel, panels, width, height, integerX);
        AtomicFile.Write(path, fs => doc.Save(fs));
    }

    private static bool Finite((double X, double Y) p) => double.IsFinite(p.X) && double.IsFinite(p.Y);

    /// <summary>Data range, widened when empty or flat so the scale never divides by zero.</summary>
    private static (double Lo, double Hi) Range(IEnumerable<double> values)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in values) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (lo > hi) return (0, 1);
        if (lo == hi) { double pad = lo == 0 ? 1 : Math.Abs(lo) * 0.1; return (lo - pad, hi + pad); }
        return (lo, hi);
    }

    /// <summary>About five ticks at 1, 2 or 5 × 10^k (at least 1 when <paramref name="integer"/>); the range is widened to whole ticks.</summary>
    private static List<double> Ticks(ref double lo, ref double hi, bool integer)
    {
        double raw = (hi - lo) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw))), norm = raw / mag;
        double step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
        if (integer) step = Math.Max(1, Math.Round(step));
        lo = Math.Floor(lo / step) * step;
        hi = Math.Ceiling(hi / step) * step;
        if (hi == lo) hi = lo + step;
        var ticks = new List<double>();
        for (int i = 0; lo + i * step <= hi + step * 1e-9; i++) ticks.Add(lo + i * step);
        return ticks;
    }

    /// <summary>An SVG path through the finite points, starting a new piece after each non-finite one.</summary>
    private static string PathData(IReadOnlyList<(double X, double Y)> points, Func<double, double> px, Func<double, double> py)
    {
        var sb = new StringBuilder();
        bool pen = false;
        foreach (var (x, y) in points)
        {
            if (!double.IsFinite(x) || !double.IsFinite(y)) { pen = false; continue; }
            sb.Append(pen ? " L" : (sb.Length > 0 ? " M" : "M")).Append(F(px(x))).Append(' ').Append(F(py(y)));
            pen = true;
        }
        return sb.ToString();
    }

    private static XElement Line(double x1, double y1, double x2, double y2, string stroke, double width = 1) =>
        new(Svg + "line", new XAttribute("x1", F(x1)), new XAttribute("y1", F(y1)), new XAttribute("x2", F(x2)),
            new XAttribute("y2", F(y2)), new XAttribute("stroke", stroke), new XAttribute("stroke-width", width));

    private static XElement Text(double x, double y, string text, string anchor, int size = 12) =>
        new(Svg + "text", new XAttribute("x", F(x)), new XAttribute("y", F(y)), new XAttribute("text-anchor", anchor),
            new XAttribute("font-size", size), text);

    /// <summary>Tick label: short general format, with float noise (0.30000000000000004) rounded away.</summary>
    private static string Label(double v) => Math.Round(v, 10).ToString("G6", CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
