using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RlhfCore.Cli;
using RlhfCore.Training.Core;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// The CLI's option parsing and validation over random values for every numeric flag of every command, with
/// <c>--dry-run</c> so nothing trains: each run ends with success (the resolved options as JSON) or with
/// one error line, and never with an exception. Seeded: the same runs every time (4 s on the shared 2-core dev machine), with a 10 s guard.
/// </summary>
public class OptionFuzzTests
{
    private static readonly string[] Nasty =
    [
        "0", "-1", "1", "2147483647", "-2147483648", "2147483648", "-2147483649", "99999999999999999999", "1e308", "-1e308",
        "1e-308", "1e39", "NaN", "Infinity", "-Infinity", "1.5", "-0", "abc", "", "0x10", "1e3", "65536", "65537", "0.5", "1,5",
    ];

    /// <summary>Flags a command needs that have no default (a file it would open after validation).</summary>
    private static readonly Dictionary<string, string[]> Required = new()
    {
        ["generate"] = ["--model", "m.safetensors"],
        ["eval"] = ["--model", "m.safetensors", "--data", "d.jsonl"],
        ["best-of-n"] = ["--policy", "p.safetensors"],
    };

    [Test]
    public void RandomValuesForEveryNumericFlag_GiveSuccessOrOneErrorLine()
    {
        var rng = new Random(20261201);
        var commands = RlhfCli.Build().Subcommands
            .Select(c => (c.Name, Flags: c.Options.Where(o => OptionBounds.IsBoundedType(o.ValueType)).Select(o => o.Name).ToArray()))
            .Where(c => c.Flags.Length > 0).ToArray();
        Assert.That(commands.Select(c => c.Name), Is.SupersetOf(new[] { "sft", "reward", "dpo", "ppo", "best-of-n", "pipeline", "demo", "generate", "eval", "bench", "selftest" }));

        var clock = Stopwatch.StartNew();
        int runs = 0, succeeded = 0;
        // Every flag once with every nasty value, then random combinations until the time is up.
        foreach (var (name, flags) in commands)
            foreach (var flag in flags)
                foreach (var value in Nasty) { Check(name, [flag, value], ref succeeded); runs++; }
        // A fixed number of seeded draws (the same runs every time), with a time limit as a guard on slow machines.
        for (int draw = 0; draw < 3000 && clock.Elapsed < TimeSpan.FromSeconds(10); draw++)
        {
            var (name, flags) = commands[rng.Next(commands.Length)];
            var args = new List<string>();
            // Distinct flags: a repeated flag is the parser's own usage error, not a value check.
            foreach (var flag in flags.OrderBy(_ => rng.Next()).Take(rng.Next(1, 4))) args.AddRange([flag, RandomValue(rng)]);
            Check(name, args, ref succeeded);
            runs++;
        }
        Assert.That(succeeded, Is.GreaterThan(0), "some values are valid");
        Assert.That(runs - succeeded, Is.GreaterThan(0), "some values are not");
    }

    private static void Check(string command, List<string> flagsAndValues, ref int succeeded)
    {
        string[] args = [command, .. Required.GetValueOrDefault(command, []), .. flagsAndValues, "--dry-run"];
        string line = string.Join(' ', args);
        var r = Cli.InProcess(args);
        if (r.Code == 0)
        {
            Assert.DoesNotThrow(() => JsonDocument.Parse(r.Stdout), line);
            Assert.That(r.Stderr, Is.Empty, line);
            succeeded++;
            return;
        }
        Assert.That(r.Code, Is.EqualTo(1).Or.EqualTo(2), $"{line}\n{r}");
        Assert.That(r.ErrorLines, Is.Not.Empty, $"{line}\n{r}");
        Assert.That(r.Stderr, Does.Not.Contain("   at ").And.Not.Contain("Exception"), $"{line}\n{r}");
        // A value of a flag that does not parse or is out of range names that flag first.
        foreach (var e in r.ErrorLines.Where(e => !e.Contains("Unrecognized", StringComparison.Ordinal)))
            Assert.That(e, Does.Match(@"^error: --[a-z0-9-]+"), $"{line}\n{r}");
    }

    private static string RandomValue(Random rng) => rng.Next(5) switch
    {
        0 => Nasty[rng.Next(Nasty.Length)],
        1 => rng.Next(-5, 100).ToString(CultureInfo.InvariantCulture),
        2 => (rng.NextDouble() * 2 - 0.5).ToString("R", CultureInfo.InvariantCulture),
        3 => Math.Pow(10, rng.Next(-320, 320)).ToString("R", CultureInfo.InvariantCulture),
        _ => ((long)rng.Next() * rng.Next(-3, 4)).ToString(CultureInfo.InvariantCulture),
    };
}
