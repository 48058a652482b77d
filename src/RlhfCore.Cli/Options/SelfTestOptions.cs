using System.ComponentModel;
using RlhfCore.Backends.Verification;
using RlhfCore.Training.Core;

namespace RlhfCore.Cli.Options;

/// <summary>Every setting of <c>rlhf selftest</c>; CLI flags map onto these one to one.</summary>
internal sealed record SelfTestOptions
{
    [Description("Backend to test: cuda (NVRTC), cuda-ilgpu, ilgpu-cpu (tiny shapes; the PTX ops run the CPU backend's code there), or cpu (against itself).")]
    public string Device { get; init; } = "cuda";
    [Description("Test only this op (an unknown name lists them).")]
    public string? Op { get; init; }
    [Description("Seed of the random inputs.")]
    [Bounds(int.MinValue, int.MaxValue)]
    public int Seed { get; init; } = 1234;

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public SelfTestOptions Validate()
    {
        OptionBounds.Check(this);
        if (Op != null && !BackendSelfTest.Ops.Contains(Op)) throw new OptionException("--op", $"unknown op '{Op}'; known: {string.Join(", ", BackendSelfTest.Ops)}");
        return this;
    }
}
