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
        var texts = root.Elements(Svg + "text").Select(t => t.Value).ToList();
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
}
