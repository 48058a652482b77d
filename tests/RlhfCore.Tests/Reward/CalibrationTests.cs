using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Reward;

public class CalibrationTests
{
    [Test]
    public void Ece_MatchesAHandWorkedExample()
    {
        // 5 bins of width 0.2.
        //   bin [0.2, 0.4): 0.3, 0.3          → mean 0.30, 1 of 2 happened (0.50): |0.30 − 0.50| = 0.20, weight 2/6
        //   bin [0.6, 0.8): 0.7               → mean 0.70, happened (1.00):         |0.70 − 1.00| = 0.30, weight 1/6
        //   bin [0.8, 1.0]: 0.9, 0.9, 1.0     → mean 0.9333, 2 of 3 (0.6667):       |0.9333 − 0.6667| = 0.2667, weight 3/6
        // ECE = 2/6·0.20 + 1/6·0.30 + 3/6·0.26667 = 0.06667 + 0.05 + 0.13333 = 0.25
        var (ece, bins) = Calibration.Compute([(0.3, true), (0.3, false), (0.7, true), (0.9, true), (0.9, false), (1.0, true)], bins: 5);
        Assert.That(ece, Is.EqualTo(0.25).Within(1e-12));
        Assert.That(bins.Select(b => b.Count), Is.EqualTo(new[] { 0, 2, 0, 1, 3 }));
        Assert.That(bins[4].MeanPredicted, Is.EqualTo(2.8 / 3).Within(1e-12));
        Assert.That(bins[4].Frequency, Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(double.IsNaN(bins[0].MeanPredicted));
    }

    [Test]
    public void PerfectCalibration_HasZeroEce_AndBadProbabilitiesAreRejected()
    {
        // 2 of 8 at 0.25 and 3 of 4 at 0.75 happened: every bin's frequency is its prediction.
        var quarter = Enumerable.Range(0, 8).Select(i => (0.25, i < 2)).Concat(Enumerable.Range(0, 4).Select(i => (0.75, i < 3))).ToList();
        Assert.That(Calibration.Compute(quarter, 10).Ece, Is.EqualTo(0).Within(1e-12));
        Assert.Throws<ArgumentException>(() => Calibration.Compute([(1.5, true)]));
        Assert.Throws<ArgumentException>(() => Calibration.Compute([(double.NaN, true)]));
    }
}
