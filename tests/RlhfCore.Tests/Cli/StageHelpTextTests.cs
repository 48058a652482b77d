using RlhfCore.Cli;

namespace RlhfCore.Tests.Cli;

/// <summary>
/// Flags inherited from the options base keep each stage's own help text ([OptionDescription] on the stage's
/// record wins over the base's [Description]), and no training flag is left without one.
/// </summary>
public class StageHelpTextTests
{
    private static string Help(string command, string flag) =>
        RlhfCli.Build().Subcommands.Single(c => c.Name == command).Options.Single(o => o.Name == flag).Description ?? "";

    [TestCase("sft", "--steps", "Optimizer steps.")]
    [TestCase("ppo", "--steps", "Rollout steps (each: sample, score, then optimize).")]
    [TestCase("ppo", "--lr", "Learning rate.")]
    [TestCase("dpo", "--lr", "Peak learning rate.")]
    [TestCase("dpo", "--batch", "Pairs per micro-batch (each pair is two rows).")]
    [TestCase("reward", "--batch", "Feedback records per micro-batch (a pair is 2 sequences, a ranking K).")]
    [TestCase("sft", "--seed", "Seed of everything random (initialization, shuffling).")]
    [TestCase("ppo", "--min-lr-fraction", "Cosine floor as a fraction of the peak rate.")]
    public void InheritedFlag_HasTheStagesText(string command, string flag, string text) =>
        Assert.That(Help(command, flag), Does.StartWith(text));

    [Test]
    public void EveryTrainingFlag_HasHelpText()
    {
        var missing = new List<string>();
        foreach (var command in RlhfCli.Build().Subcommands.Where(c => c.Name is "sft" or "reward" or "dpo" or "ppo"))
            foreach (var option in command.Options)
                if (string.IsNullOrWhiteSpace(option.Description)) missing.Add($"{command.Name} {option.Name}");
        Assert.That(missing, Is.Empty);
    }
}
