using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace RlhfCore.IO;

/// <summary>One line of a chart.</summary>
/// <param name="Name">Legend label.</param>
/// <param name="Points">(x, y) points in x order; non-finite values break the line.</param>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// Plain SVG line charts (loss and reward curves) with no plotting library: axes with "nice" 1-2-5 ticks,
/// axis labels, a title and a legend. Built with <see cref="XDocument"/>, so the output is always
/// well-formed XML with all text escaped.
/// </summary>
public static class SvgChart
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    private const double Left = 70, Right = 20, Top = 40, Bottom = 50;

    /// <summary>The chart as an SVG document.</summary>
    public static XDocument Render(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, int width = 720, int height = 420)
    {
        var finite = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var (x0, x1) = Range(finite.Select(p => p.X));
        var (y0, y1) = Range(finite.Select(p => p.Y));
        var xTicks = Ticks(ref x0, ref x1);
        var yTicks = Ticks(ref y0, ref y1);
        double plotW = width - Left - Right, plotH = height - Top - Bottom;
        double Px(double x) => Left + (x - x0) / (x1 - x0) * plotW;
        double Py(double y) => Top + plotH - (y - y0) / (y1 - y0) * plotH;

        var root = new XElement(Svg + "svg",
            new XAttribute("width", width), new XAttribute("height", height),
            new XAttribute("viewBox", $"0 0 {width} {height}"), new XAttribute("font-family", "sans-serif"), new XAttribute("font-size", 12),
            new XElement(Svg + "rect", new XAttribute("width", width), new XAttribute("height", height), new XAttribute("fill", "white")),
            Text(width / 2.0, 24, title, "middle", 16),
            Text(Left + plotW / 2, height - 10, xLabel, "middle"),
            new XElement(Svg + "text", new XAttribute("transform", $"translate(16 {F(Top + plotH / 2)}) rotate(-90)"),
                new XAttribute("text-anchor", "middle"), yLabel));

        foreach (double t in xTicks)
        {
            root.Add(Line(Px(t), Top, Px(t), Top + plotH, "#e0e0e0"));
            root.Add(Text(Px(t), Top + plotH + 16, Label(t), "middle"));
        }
        foreach (double t in yTicks)
        {
            root.Add(Line(Left, Py(t), Left + plotW, Py(t), "#e0e0e0"));
            root.Add(Text(Left - 6, Py(t) + 4, Label(t), "end"));
        }
        root.Add(Line(Left, Top + plotH, Left + plotW, Top + plotH, "black"));
        root.Add(Line(Left, Top, Left, Top + plotH, "black"));

        for (int i = 0; i < series.Count; i++)
        {
            string color = Palette[i % Palette.Length];
            string d = PathData(series[i].Points, Px, Py);
            if (d.Length > 0)
                root.Add(new XElement(Svg + "path", new XAttribute("d", d), new XAttribute("fill", "none"),
                    new XAttribute("stroke", color), new XAttribute("stroke-width", 1.5)));
            double ly = Top + 8 + 16 * i;
            root.Add(Line(Left + plotW - 130, ly, Left + plotW - 110, ly, color, 2));
            root.Add(Text(Left + plotW - 104, ly + 4, series[i].Name, "start"));
        }
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    /// <summary>Renders the chart and writes it to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, int width = 720, int height = 420)
    {
        var doc = Render(title, xLabel, yLabel, series, width, height);
        AtomicFile.Write(path, fs => doc.Save(fs));
    }

    /// <summary>Data range, widened when empty or flat so the scale never divides by zero.</summary>
    private static (double Lo, double Hi) Range(IEnumerable<double> values)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in values) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (lo > hi) return (0, 1);
        if (lo == hi) { double pad = lo == 0 ? 1 : Math.Abs(lo) * 0.1; return (lo - pad, hi + pad); }
        return (lo, hi);
    }

    /// <summary>About five ticks at 1, 2 or 5 × 10^k; the range is widened to whole ticks.</summary>
    private static List<double> Ticks(ref double lo, ref double hi)
    {
        double raw = (hi - lo) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw))), norm = raw / mag;
        double step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
        lo = Math.Floor(lo / step) * step;
        hi = Math.Ceiling(hi / step) * step;
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
