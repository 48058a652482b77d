using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// The C# parameter structs of the PPO and GAE launchers have the sizes of the single <c>.param</c> struct
/// each PTX entry declares (<c>.param .align 8 .b8 params[NN]</c>), read from the embedded PTX. Host-only.
/// </summary>
public class PpoGaeParamsTests
{
    [TestCase("ppo_loss.ptx", "ppo_loss", typeof(PpoLossParams))]
    [TestCase("gae.ptx", "gae_scan", typeof(GaeParams))]
    [TestCase("gae.ptx", "gae_moments", typeof(GaeMomentsParams))]
    [TestCase("gae.ptx", "masked_normalize", typeof(MaskedNormalizeParams))]
    public void StructSizeMatchesPtx(string ptx, string entry, Type type)
    {
        var m = Regex.Match(KernelSources.Ptx(ptx), @"\.entry\s+" + entry + @"\(\s*\.param\s+\.align\s+8\s+\.b8\s+params\[(\d+)\]");
        Assert.That(m.Success, $"{ptx} declares {entry}(.param .align 8 .b8 params[N])");
        Assert.That(Marshal.SizeOf(type), Is.EqualTo(int.Parse(m.Groups[1].Value)), $"sizeof({type.Name}) vs {ptx}/{entry}");
    }
}
