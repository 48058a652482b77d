using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// The emulator tests run every instruction form each shipped PTX file uses: on a fresh parse of the file,
/// the checks of its test class (a few of their cases) issue every distinct opcode with its modifiers at
/// least once. A new instruction form in the PTX that no case reaches fails here, naming it and its line.
/// </summary>
[TestFixture]
public sealed class PtxCoverageTests
{
    [TestCase("attention_forward.ptx")]
    [TestCase("attention_backward.ptx")]
    [TestCase("ppo_loss.ptx")]
    [TestCase("gae.ptx")]
    public void EveryInstructionFormRuns(string file)
    {
        var module = PtxEmulator.Load(KernelSources.Ptx(file));
        Func<string?>[] checks = file switch
        {
            "attention_forward.ptx" or "attention_backward.ptx" =>
                [() => AttentionPtxEmulatorTests.Check(2, 1, 7, masked: true), () => AttentionPtxEmulatorTests.Check(1, 1, 70, masked: true)],
            "ppo_loss.ptx" => [() => PpoLossPtxEmulatorTests.Check(5, 37, false), () => PpoLossPtxEmulatorTests.Check(4, 1001, false),
                () => PpoLossPtxEmulatorTests.Check(9, 37, false, new RlhfCore.Rl.PolicyClip(0.2f, 0.28f, 3f))],
            _ => [() => GaePtxEmulatorTests.CheckGae(3, 7, false, null), () => GaePtxEmulatorTests.CheckGae(5, 132, false, null),
                  () => GaePtxEmulatorTests.CheckMaskedNormalize(97)],
        };
        foreach (var check in checks) Assert.That(PtxTestKit.WithModule(file, module, check), Is.Null);

        var missing = module.Values.SelectMany(k => k.Code.Select((ins, i) => (Form: Opcode(ins.Text), ins.Line, Ran: k.Issued[i] > 0)))
            .GroupBy(x => x.Form)
            .Where(g => !g.Any(x => x.Ran))
            .Select(g => $"{g.Key} (line {g.First().Line})")
            .ToList();
        Assert.That(missing, Is.Empty, $"{file}: instruction forms no emulator case runs");
    }

    /// <summary>The opcode with its modifiers, guard removed: "setp.ne.and.b64".</summary>
    private static string Opcode(string text)
    {
        string s = text.StartsWith('@') ? text[(text.IndexOf(' ') + 1)..] : text;
        int sp = s.IndexOf(' ');
        return sp < 0 ? s : s[..sp];
    }
}
