using System.CommandLine;
using RlhfCore.Cli;
using RlhfCore.Training;
using RlhfCore.Training.Core;
using RlhfCore.Training.Sft;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Finding 4 of issue 12: flags without bounds. Each bad value is one line on standard error naming the
/// flag, exit code 2, before anything is read or allocated; and no numeric flag of any command lacks a range.
/// </summary>
public class OptionBoundsTests
{
    [TestCase("sft --batch 2147483647", "--batch: 2147483647 is above the maximum 65536")]
    [TestCase("sft --batch 100000", "--batch: 100000 is above the maximum 65536")]
    [TestCase("sft --batch 99999999999", "--batch: 99999999999 is above the maximum 65536")]
    [TestCase("reward --batch -2", "--batch: -2 is below the minimum 1")]
    [TestCase("dpo --batch -2", "--batch: -2 is below the minimum 1")]
    [TestCase("sft --grad-accum 2147483647", "--grad-accum: 2147483647 is above the maximum 4096")]
    [TestCase("sft --lr 1e308", "--lr: 1e308 is not a finite number")]
    [TestCase("sft --lr Infinity", "--lr: Infinity is not a finite number")]
    [TestCase("sft --eval-fraction NaN", "--eval-fraction: NaN is not a number")]
    [TestCase("sft --lr 1e30", "--lr: 1e30 is above the maximum 1 (")]
    [TestCase("sft --checkpoint-every -1", "--checkpoint-every: -1 is below the minimum 0")]
    [TestCase("reward --checkpoint-every -1", "--checkpoint-every: -1 is below the minimum 0")]
    [TestCase("sft --min-lr-fraction 2", "--min-lr-fraction: 2 is above the maximum 1")]
    [TestCase("sft --threads -1", "--threads: -1 is below the minimum 0")]
    [TestCase("generate --model m.safetensors --num-samples 0", "--num-samples: 0 is below the minimum 1")]
    [TestCase("generate --model m.safetensors --num-samples 100000", "--num-samples: 100000 is above the maximum 65536")]
    [TestCase("ppo --lr 1e30", "--lr: 1e30 is above the maximum 1 (")]
    [TestCase("pipeline --policy-lr -1", "--policy-lr: -1 must be above 0 (")]
    [TestCase("bench --batch 0", "--batch: 0 is below the minimum 1")]
    [TestCase("sft --batch abc", "--batch: 'abc' is not a whole number")]
    [TestCase("sft --batch 1.5", "--batch: '1.5' is not a whole number")]
    public void BadValue_IsOneLineNamingTheFlag_ExitCode2(string commandLine, string message)
    {
        var r = Cli.InProcess(commandLine.Split(' '));
        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines[0], Does.StartWith("error: " + message));
        Assert.That(r.Stdout, Is.Empty, "nothing ran");
    }

    [Test]
    public void Threads_AreBoundedByFourPerCore()
    {
        int max = 4 * Environment.ProcessorCount;
        var r = Cli.InProcess("sft", "--threads", "10000");
        Assert.That(r.ErrorLines.Single(), Does.StartWith($"error: --threads: 10000 is above the maximum {max} ("));
        Assert.That(Cli.InProcess("sft", "--threads", $"{max}", "--dry-run").Code, Is.EqualTo(0));
    }

    [Test]
    public void OptionsBuiltInCode_AreCheckedByTheSameValidator()
    {
        var e = Assert.Throws<OptionException>(() => new SftOptions { Lr = float.PositiveInfinity }.Validate())!;
        Assert.That(e.Message, Is.EqualTo("--lr: ∞ is not a finite number").Or.EqualTo("--lr: Infinity is not a finite number"));
        Assert.That(Assert.Throws<OptionException>(() => new SftOptions { Batch = 0 }.Validate())!.Flag, Is.EqualTo("--batch"));
    }

    [Test]
    public void EveryNumericFlagOfEveryCommand_HasARange()
    {
        var missing = new List<string>();
        foreach (var command in RlhfCli.Build().Subcommands)
            foreach (var option in command.Options)
            {
                if (!OptionBounds.IsBoundedType(option.ValueType)) continue;
                // RecordBinder appends the range to the help of every flag whose field has [Bounds].
                if (option.Description?.Contains("Range: ", StringComparison.Ordinal) != true) missing.Add($"{command.Name} {option.Name}");
            }
        Assert.That(missing, Is.Empty, "numeric flags without a [Bounds] range on their options-record field");
    }
}
