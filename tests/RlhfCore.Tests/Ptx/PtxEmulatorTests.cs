using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// The emulator fails loudly — naming the line and the instruction — on PTX it does not know or that
/// misbehaves, and the kernel checks catch a wrong kernel: one instruction of a shipped file changed in
/// memory (an add swapped for a sub) makes its check report a mismatch, while the same check passes on
/// the unchanged text.
/// </summary>
[TestFixture]
public sealed class PtxEmulatorTests
{
    /// <summary>A one-entry module; <paramref name="body"/> starts on line 12.</summary>
    private static string Module(string body) => $$"""
        .version 7.8
        .target sm_80
        .address_size 64

        .visible .entry k(.param .align 8 .b8 prm[8])
        {
        	.reg .pred %p;
        	.reg .b32 %r<4>;
        	.reg .b64 %a;
        	ld.param.u64 %a, [prm+0];
        	mov.u32 %r0, %tid.x;
        {{body}}
        	ret;
        }
        """;

    [TestCase("\tpopc.b32 %r1, %r0;", "unknown instruction 'popc'")]
    [TestCase("\tadd.sat.s32 %r1, %r0, 1;", "unknown modifier(s) .sat")]
    [TestCase("\tmma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%r0,%r1,%r2,%r3}, {%r0,%r1}, {%r0}, {%r0,%r1,%r2,%r3};", "expected modifier .m16n8k16")]
    [TestCase("\tsetp.ltu.f32 %p, %r0, %r1;", "setp comparison not emulated")]
    [TestCase("\tld.local.u32 %r1, [%a];", "generic or .local")]
    [TestCase("\t.local .align 4 .b8 buf[16];", "directive or nested scope")]
    [TestCase("\tmov.u32 %r9, 0;", "register %r9 is not declared")]
    [TestCase("\tbra NOWHERE;", "unknown symbol 'NOWHERE'")]
    public void UnknownPtxFailsAtParseWithItsLine(string body, string why)
    {
        var e = Assert.Throws<PtxException>(() => PtxEmulator.Load(Module(body)));
        string stmt = body.Trim().TrimEnd(';');
        Assert.That(e!.Message, Does.StartWith($"line 12: `{stmt}`"), "names the line and the instruction text");
        Assert.That(e.Message, Does.Contain(why));
    }

    [TestCase("\tst.global.u32 [%a+64], %r0;", "outside every allocation")]
    [TestCase("\tst.global.u32 [%a+2], %r0;", "misaligned 4-byte store")]
    [TestCase("\tadd.u32 %r1, %r2, 1;", "register %r2 read before it was written")]
    [TestCase("\tsetp.lt.u32 %p, %r0, 16;\n\t@%p bra SKIP;\n\tshfl.sync.bfly.b32 %r1, %r0, 1, 0x1f, 0xffffffff;\nSKIP:", "not converged")]
    [TestCase("\tsetp.lt.u32 %p, %r0, 16;\n\t@%p bra.uni SKIP;\nSKIP:", "bra.uni diverges")]
    [TestCase("\tsetp.lt.u32 %p, %r0, 16;\n\t@%p bar.sync 0;", "bar.sync under a predicate")]
    [TestCase("\tdiv.u32 %r1, 1, 0;", "division by zero")]
    [TestCase("LOOP:\n\tbra LOOP;", "an endless loop")]
    public void MisbehavingPtxFailsAtRunWithItsLine(string body, string why)
    {
        var k = PtxEmulator.Load(Module(body))["k"];
        var mem = new PtxMemory();
        ulong buf = mem.Alloc(8);
        var e = Assert.Throws<PtxException>(() => PtxEmulator.Launch(k, mem, BitConverter.GetBytes(buf), (1, 1, 1), (32, 1, 1), maxStepsPerCta: 10_000));
        Assert.That(e!.Message, Does.Match(@"^line 1\d: `"), "names the line and the instruction text");
        Assert.That(e.Message, Does.Contain(why));
    }

    [Test]
    public void LaunchShapeAndParametersAreChecked()
    {
        var gae = PtxTestKit.Shipped("gae.ptx", "gae_scan");   // .reqntid 256, 64-byte parameters
        Assert.That(() => PtxEmulator.Launch(gae, new PtxMemory(), new byte[64], (1, 1, 1), (128, 1, 1)),
            Throws.TypeOf<PtxException>().With.Message.Contains(".reqntid"));
        Assert.That(() => PtxEmulator.Launch(gae, new PtxMemory(), new byte[56], (1, 1, 1), (256, 1, 1)),
            Throws.TypeOf<PtxException>().With.Message.Contains("declares 64"));
    }

    /// <summary>Each mutant swaps one add for a sub (or back) on a path the named check runs.</summary>
    [TestCase("attention_forward.ptx", 822, "add.f32 %rs, %rs, %s0", "sub.f32 %rs, %rs, %s0")]       // softmax row sum
    [TestCase("attention_backward.ptx", 1079, "sub.f32 %dp0, %dp0, %da", "add.f32 %dp0, %dp0, %da")]  // dZ = P(dP - D)
    [TestCase("ppo_loss.ptx", 178, "add.f32 %s, %s, %e", "sub.f32 %s, %s, %e")]                      // float4 body of pass 1
    [TestCase("ppo_loss.ptx", 296, "mul.rn.f32 %pg3, %A, %cd", "add.rn.f32 %pg3, %A, %cd")]           // dual-clip bound −A·c
    [TestCase("gae.ptx", 186, "sub.f32 %r1, %r1, %v1", "add.f32 %r1, %r1, %v1")]                     // vector-path delta
    [TestCase("gae.ptx", 359, "sub.f32 %delta, %delta, %v", "add.f32 %delta, %delta, %v")]           // scalar-path delta
    public void AWrongKernelFailsItsCheck(string file, int line, string from, string to)
    {
        Func<string?> check = file switch
        {
            "attention_forward.ptx" or "attention_backward.ptx" => () => AttentionPtxEmulatorTests.Check(B: 2, NH: 1, T: 7, masked: true),
            "ppo_loss.ptx" when from.Contains("%pg3") => () => PpoLossPtxEmulatorTests.Check(N: 9, V: 37, inPlace: false, new RlhfCore.Rl.PolicyClip(0.2f, 0.28f, 3f)),
            "ppo_loss.ptx" => () => PpoLossPtxEmulatorTests.Check(N: 4, V: 1001, inPlace: false),
            _ => () => GaePtxEmulatorTests.CheckGae(B: 7, T: line == 186 ? 128 : 33, misalign: false, grid: null),
        };
        string text = KernelSources.Ptx(file);
        var lines = text.Split('\n');
        Assert.That(lines[line - 1], Does.Contain(from), $"{file}:{line} is not the instruction this mutant changes");
        lines[line - 1] = lines[line - 1].Replace(from, to);

        Assert.That(PtxTestKit.WithText(file, text, check), Is.Null, "the unchanged text passes the check");
        string? verdict;
        try { verdict = PtxTestKit.WithText(file, string.Join('\n', lines), check); }
        catch (PtxException e) { verdict = e.Message; }
        Assert.That(verdict, Is.Not.Null, $"{file}:{line} changed to '{to}' still passes its check");
        TestContext.Out.WriteLine($"{file}:{line} '{to}': {verdict}");
    }
}
