using RlhfCore.Data.Tasks;

namespace RlhfCore.Tests.Tasks;

public class ArithmeticGoldTaskTests
{
    [TestCase("17+25=", "42", 1.0)]
    [TestCase("17+25=", " 42\n", 1.0)]
    [TestCase("17+25=", "41", 0.0)]
    [TestCase("17+25=", "420", 0.0)]
    [TestCase("17+25=", "", 0.0)]
    [TestCase("0+0=", "0", 1.0)]
    public void Gold_IsExactCorrectness(string prompt, string completion, double expected) =>
        Assert.That(new ArithmeticGoldTask().GoldReward(prompt, completion), Is.EqualTo(expected));

    [TestCase(0.0)]
    [TestCase(0.3)]
    [TestCase(1.0)]
    public void Demonstrations_AreWrongAtTheErrorRate(double rate)
    {
        const int n = 20000;
        var task = new ArithmeticGoldTask(new ArithmeticTask(DemoErrorRate: rate));
        var rng = new Rng(11);
        int wrong = 0;
        for (int i = 0; i < n; i++)
        {
            var d = task.SampleDemonstration(rng);
            Assert.That(d.Completion.Length, Is.LessThanOrEqualTo(task.MaxCompletionChars));
            if (task.GoldReward(d.Prompt, d.Completion) == 0) wrong++;
        }
        Assert.That(wrong / (double)n, Is.EqualTo(rate).Within(Statistics.BinomialBound(rate, n)));
    }

    [Test]
    public void MaxCompletionChars_CoversTheLargestSumAndError()
    {
        Assert.That(new ArithmeticGoldTask().MaxCompletionChars, Is.EqualTo(3));
        Assert.That(new ArithmeticGoldTask(new ArithmeticTask(MaxOperand: 10)).MaxCompletionChars, Is.EqualTo(2), "9+9 = 18, +3 = 21");
    }

    [Test]
    public void GoldTasks_ByName()
    {
        Assert.That(GoldTasks.Create("arithmetic"), Is.InstanceOf<ArithmeticGoldTask>());
        Assert.That(GoldTasks.Create("builtin:reviews"), Is.InstanceOf<ReviewTask>());
        Assert.That(GoldTasks.Names.Select(n => GoldTasks.Create(n).Name), Is.EqualTo(GoldTasks.Names));
        var e = Assert.Throws<ArgumentException>(() => GoldTasks.Create("builtin:poetry"))!;
        Assert.That(e.Message, Does.Contain("poetry").And.Contain("arithmetic, reviews"));
    }
}
