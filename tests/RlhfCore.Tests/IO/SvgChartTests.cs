using System.Xml.Linq;
using RlhfCore.IO;

namespace RlhfCore.Tests.IO;

public class SvgChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Test]
    public void Chart_IsWellFormedSvg_WithTitleAxesTicksAndLegend()
    {
        using var dir = new TempDir();
        string path = dir.File("loss.svg");
        var train = new ChartSeries("train <loss> & co", Enumerable.Range(0, 50).Select(i => ((double)i, 3.0 / (1 + i))).ToList());
        var eval = new ChartSeries("eval", [(0, 2.9), (10, double.NaN), (20, 0.4), (49, 0.2)]);
        SvgChart.Write(path, "Loss", "step", "loss", [train, eval]);

        var doc = XDocument.Load(path); // throws unless well-formed
        var root = doc.Root!;
        Assert.That(root.Name, Is.EqualTo(Svg + "svg"));
        var texts = root.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.That(texts, Does.Contain("Loss").And.Contain("step").And.Contain("loss"));
        Assert.That(texts, Does.Contain("train <loss> & co").And.Contain("eval"));
        // 1-2-5 ticks: x over [0, 49] steps by 10, y over [0.06, 3] by 0.5.
        Assert.That(texts, Is.SupersetOf(new[] { "0", "10", "20", "30", "40", "50" }));
        Assert.That(texts, Is.SupersetOf(new[] { "0", "0.5", "1", "1.5", "2", "2.5", "3" }));
        var paths = root.Elements(Svg + "path").Select(p => p.Attribute("d")!.Value).ToList();
        Assert.That(paths, Has.Count.EqualTo(2));
        Assert.That(paths[0].Split('L'), Has.Length.EqualTo(50));
        Assert.That(paths[1].Count(c => c == 'M'), Is.EqualTo(2), "the NaN point breaks the eval line in two");
        foreach (var p in paths)
            Assert.That(p, Does.Not.Contain("NaN").And.Not.Contain("Infinity"));
    }

    [Test]
    public void Ticks_AreOneTwoOrFiveTimesAPowerOfTen()
    {
        var doc = SvgChart.Render("t", "x", "y", [new ChartSeries("s", [(0, 0.03), (10, 0.7)])]);
        var texts = doc.Root!.Elements(Svg + "text").Select(t => t.Value).ToList();
        Assert.That(texts, Is.SupersetOf(new[] { "0", "2", "4", "6", "8", "10" }));
        Assert.That(texts, Is.SupersetOf(new[] { "0.1", "0.2", "0.3", "0.7" }));
        Assert.That(texts, Has.None.EqualTo("2.5").And.None.EqualTo("0.30000000000000004"));
    }

    [Test]
    public void EmptyAndFlatSeries_StillRender()
    {
        var doc = SvgChart.Render("t", "x", "y", [new ChartSeries("flat", [(1, 5), (2, 5)]), new ChartSeries("empty", [])]);
        XDocument.Parse(doc.ToString());
        Assert.That(doc.Root!.Elements(Svg + "path").Single().Attribute("d")!.Value, Does.Not.Contain("NaN"));
    }

    [Test]
    public void Legend_IsInsideTheFrame_AndWideEnoughForItsLongestLabel()
    {
        const int width = 720;
        var doc = SvgChart.Render("t", "round", "accuracy",
            [new ChartSeries("RM held-out accuracy on the post-RL policy's samples", [(0, 0.5), (3, 0.9)]), new ChartSeries("gold", [(0, 0.2), (3, 0.4)])], width);
        var legend = doc.Root!.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "legend");
        var box = legend.Element(Svg + "rect")!;
        double x = (double)box.Attribute("x")!, w = (double)box.Attribute("width")!;
        var frame = doc.Root!.Elements(Svg + "line").Where(l => (string?)l.Attribute("stroke") == "black").ToList();
        double left = frame.Min(l => (double)l.Attribute("x1")!), right = frame.Max(l => (double)l.Attribute("x2")!);
        Assert.That(x, Is.GreaterThanOrEqualTo(left), "legend starts inside the frame");
        Assert.That(x + w, Is.LessThanOrEqualTo(right), "legend ends inside the frame");
        // 7.2 px per character is wider than a 12 px sans-serif face's average glyph, so the label fits the box.
        Assert.That(w, Is.GreaterThanOrEqualTo(7 * "RM held-out accuracy on the post-RL policy's samples".Length));
    }

    [Test]
    public void IntegerAxis_HasOnlyWholeTicks()
    {
        var doc = SvgChart.Render("t", "round", "y", [new ChartSeries("s", [(0, 1), (1, 2), (2, 3)])], integerX: true);
        var xTicks = doc.Root!.Elements(Svg + "text").Where(t => (string?)t.Attribute("text-anchor") == "middle" && t.Value is not ("t" or "round" or "y"))
            .Select(t => t.Value).ToList();
        Assert.That(xTicks, Is.EqualTo(new[] { "0", "1", "2" }));
        var plain = SvgChart.Render("t", "round", "y", [new ChartSeries("s", [(0, 1), (1, 2), (2, 3)])]);
        Assert.That(plain.Root!.Elements(Svg + "text").Select(t => t.Value), Does.Contain("0.5"), "without the flag the same data gets half ticks");
    }

    [Test]
    public void Panels_EachHaveTheirOwnAxis_AndScattersDrawDots()
    {
        var doc = SvgChart.RenderPanels("t", "d", [
            new ChartPanel("gold (fraction)", [new ChartSeries("round 1", [(0, 0.1), (1, 0.9), (2, double.NaN)], ChartStyle.Points)]),
            new ChartPanel("score (RM units)", [new ChartSeries("round 1", [(0, -40), (1, 60)], ChartStyle.Points), new ChartSeries("fit", [(0, -40), (1, 60)])]),
        ], height: 300);
        var root = doc.Root!;
        Assert.That(root.Descendants(Svg + "circle").Count(c => c.Parent == root), Is.EqualTo(4), "one dot per finite point, none for NaN");
        Assert.That(root.Elements(Svg + "path"), Has.Exactly(1).Items, "only the line series is a path");
        var texts = root.Elements(Svg + "text").Select(t => t.Value).ToList();
        Assert.That(texts, Does.Contain("gold (fraction)").And.Contain("score (RM units)"));
        Assert.That(texts, Does.Contain("-40").And.Contain("60").And.Contain("0.4"), "each panel's y ticks follow its own data");
        Assert.That((int)root.Attribute("height")!, Is.GreaterThan(2 * 250), "panels are stacked");
    }
}
