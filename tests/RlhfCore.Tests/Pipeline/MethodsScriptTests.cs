using System.Diagnostics;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// <c>benchmarks/methods.sh --quick</c> end to end through bash on tiny settings: it exits 0 and prints one markdown row
/// per method, each with its gold accuracies, its KL to SFT on evaluation samples and its policy-stage minutes.
/// </summary>
public class MethodsScriptTests
{
    private static readonly string[] Methods =
    [
        "Ppo", "A2c", "Reinforce", "Rloo", "Grpo", "ReinforcePlusPlus", "DAPO", "Dr. GRPO", "GSPO", "dual-clip PPO",
        "RLOO + TR-DPO-style ref sync", "Dpo", "Kto", "Orpo", "Simpo", "TR-DPO", "Ilql", "RejectionSampling",
    ];

    [Test]
    public void QuickMode_PrintsARowPerMethod()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False, "the script is bash");
        string outDir = Path.Combine(Path.GetTempPath(), "rlhf-methods-" + Guid.NewGuid().ToString("N"));
        try
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(Path.Combine(TestData.RepoRoot, "benchmarks", "methods.sh"));
            psi.ArgumentList.Add("--quick");
            psi.ArgumentList.Add("--threads");
            psi.ArgumentList.Add("2");
            psi.Environment["RLHF"] = "dotnet " + Path.Combine(AppContext.BaseDirectory, "rlhf.dll");
            psi.Environment["OUT"] = outDir;
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(300_000)) { p.Kill(true); Assert.Fail("methods.sh --quick did not finish in 300 s"); }
            Assert.That(p.ExitCode, Is.Zero, $"stdout:\n{stdout}\nstderr:\n{stderr.Result}");

            var rows = stdout.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Skip(1)
                .Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
            Assert.That(rows.Select(r => r[1]), Is.EqualTo(Methods), "one row per method, in order");
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            foreach (var r in rows)
            {
                Assert.That(r[3], Does.EndWith("%"), $"{r[1]}: gold greedy measured");
                Assert.That(r[4], Does.EndWith("%"), $"{r[1]}: gold sampled measured");
                Assert.That(double.TryParse(r[5], invariant, out _), $"{r[1]}: KL on evaluation samples, got '{r[5]}'");
                Assert.That(double.TryParse(r[7], invariant, out _), $"{r[1]}: policy-stage minutes, got '{r[7]}'");
            }
            Assert.That(rows.Where(r => r[1] is "Dpo" or "Kto" or "Orpo" or "Simpo" or "TR-DPO" or "Ilql" or "RejectionSampling").Select(r => r[6]), Is.All.EqualTo("-"),
                "the preference losses and ILQL have no rollout KL");
            // Nothing of the base's policy stage is reused: each copy's stage and evaluation ran again, with its own flags.
            var baseEvaluation = File.GetLastWriteTimeUtc(Path.Combine(outDir, "base", "round-1", "evaluation.json"));
            foreach (var (dir, setting) in new[] { ("ppo", "\"Method\": \"Ppo\""), ("gspo", "\"ImportanceLevel\": \"Sequence\""), ("kto", "\"Loss\": \"Kto\"") })
            {
                Assert.That(File.GetLastWriteTimeUtc(Path.Combine(outDir, dir, "round-1", "evaluation.json")), Is.GreaterThan(baseEvaluation), $"{dir} evaluated its own policy");
                Assert.That(File.ReadAllText(Path.Combine(outDir, dir, "round-1", "policy", "config.json")), Does.Contain(setting), $"{dir}'s policy stage got its flags");
            }
            Assert.That(File.ReadAllText(Path.Combine(outDir, "methods.md")).Trim(), Is.EqualTo(stdout.Trim()), "the table is kept in OUT/methods.md");
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }
}
