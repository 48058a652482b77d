namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Instruction semantics the shipped kernels rely on only partly, checked one by one on a tiny kernel
/// against values worked out from the PTX ISA: shfl's in-range predicate and lane wrap, ballot, bfe's sign
/// extension, clamped shifts, bfind/brev, signed vs unsigned min/max, max.f32 and setp.ne.f32 with NaN,
/// bf16 round-to-nearest-even ties, ex2 of −inf.
/// </summary>
[TestFixture]
public sealed class PtxSemanticsTests
{
    private const string Kernel = """
        .version 7.8
        .target sm_80
        .address_size 64

        .visible .entry k(.param .align 8 .b8 prm[8])
        {
        	.reg .pred %p, %q;
        	.reg .b32 %t, %r<16>;
        	.reg .b64 %a, %o;
        	.reg .f32 %f<3>;
        	ld.param.u64 %a, [prm+0];
        	mov.u32 %t, %tid.x;
        	mul.wide.u32 %o, %t, 4;
        	add.s64 %a, %a, %o;
        	shfl.sync.up.b32 %r0|%p, %t, 3, 0, 0xffffffff;
        	selp.u32 %r1, 1, 0, %p;
        	shfl.sync.idx.b32 %r2, %t, 37, 0x1f, -1;
        	bfe.s32 %r3, %t, 2, 3;
        	shl.b32 %r4, %t, 33;
        	sub.s32 %r5, 0, %t;
        	shr.s32 %r5, %r5, 40;
        	bfind.u32 %r6, %t;
        	brev.b32 %r7, %t;
        	max.u32 %r8, %r5, %t;
        	vote.sync.ballot.b32 %r9, %p, 0xffffffff;
        	rem.u32 %r10, %t, 7;
        	mad.lo.s32 %r11, %t, -3, 100;
        	mov.f32 %f0, 0f7FC00000;
        	max.f32 %f1, %f0, 0f3F800000;
        	mov.b32 %r12, %f1;
        	setp.ne.f32 %q, %f0, %f0;
        	selp.u32 %r13, 1, 0, %q;
        	cvt.rn.bf16x2.f32 %r14, 0f3F808000, 0f3F818000;
        	ex2.approx.ftz.f32 %f2, 0fFF800000;
        	mov.b32 %r15, %f2;
        	st.global.u32 [%a+0], %r0;
        	st.global.u32 [%a+256], %r1;
        	st.global.u32 [%a+512], %r2;
        	st.global.u32 [%a+768], %r3;
        	st.global.u32 [%a+1024], %r4;
        	st.global.u32 [%a+1280], %r5;
        	st.global.u32 [%a+1536], %r6;
        	st.global.u32 [%a+1792], %r7;
        	st.global.u32 [%a+2048], %r8;
        	st.global.u32 [%a+2304], %r9;
        	st.global.u32 [%a+2560], %r10;
        	st.global.u32 [%a+2816], %r11;
        	st.global.u32 [%a+3072], %r12;
        	st.global.u32 [%a+3328], %r13;
        	st.global.u32 [%a+3584], %r14;
        	st.global.u32 [%a+3840], %r15;
        	ret;
        }
        """;

    [Test]
    public void EachInstructionGivesTheIsaValue()
    {
        const int Threads = 64, Outputs = 16;
        var mem = new PtxMemory();
        ulong buf = mem.Alloc(Threads * Outputs * 4);
        PtxEmulator.Launch(PtxEmulator.Load(Kernel)["k"], mem, BitConverter.GetBytes(buf), (1, 1, 1), (Threads, 1, 1));
        var got = mem.Download<uint>(buf, Threads * Outputs);
        for (uint t = 0; t < Threads; t++)
        {
            uint lane = t % 32;
            uint[] want =
            [
                lane >= 3 ? t - 3 : t,                                   // shfl.up by 3: lanes 0..2 keep their own value
                lane >= 3 ? 1u : 0u,                                     // ... and say so in the predicate
                (t & ~31u) + 5,                                          // shfl.idx 37 reads lane 37 & 31 = 5 of its own warp
                (uint)(((int)(t << 27)) >> 29),                          // bfe.s32 bits 2..4, sign-extended from bit 4
                0,                                                       // shl by 33 ≥ 32 gives 0
                t == 0 ? 0 : 0xFFFF_FFFF,                                // shr.s32 of −t by 40 clamps to 31: sign fill
                t == 0 ? 0xFFFF_FFFF : (uint)(31 - uint.LeadingZeroCount(t)),  // bfind: index of the top bit
                Convert.ToUInt32(new string(Convert.ToString(t, 2).PadLeft(32, '0').Reverse().ToArray()), 2),   // brev
                t == 0 ? 0 : 0xFFFF_FFFF,                                // max.u32 reads −1 as 0xFFFFFFFF
                0xFFFF_FFF8,                                             // ballot of "lane ≥ 3"
                t % 7,
                (uint)(100 - 3 * (int)t),
                0x3F80_0000,                                             // max.f32(NaN, 1) = 1
                0,                                                       // setp.ne.f32 is ordered: NaN ≠ NaN is false
                0x3F80_3F82,                                             // ties to even: 0x3F80|8000 → 3F80, 0x3F81|8000 → 3F82
                0,                                                       // ex2(−inf) = +0
            ];
            for (int k = 0; k < Outputs; k++)
                Assert.That(got[k * Threads + t], Is.EqualTo(want[k]), $"output {k} of thread {t}");
        }
    }
}
