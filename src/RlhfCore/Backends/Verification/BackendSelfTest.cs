using System.Text;
using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Cuda;

namespace RlhfCore.Backends.Verification;

/// <summary>One self-test comparison: an op on one shape.</summary>
/// <param name="Kernel">Op name (for example "layernorm_backward").</param>
/// <param name="Shape">The sizes it ran at.</param>
/// <param name="MaxRelError">max over outputs of ‖out − ref‖∞ / ‖ref‖∞ (for sampling: fraction of tokens that differ); NaN when an output held NaN.</param>
/// <param name="Tolerance">The largest error that passes.</param>
/// <param name="Pass">True when the error is within tolerance.</param>
/// <param name="Note">Why the row did not run ("not implemented", an exception), or empty.</param>
/// <param name="Skipped">True when the shape was not run (too large for the backend under test); such a row neither passes nor fails.</param>
public sealed record SelfTestRow(string Kernel, string Shape, double MaxRelError, double Tolerance, bool Pass, string Note = "", bool Skipped = false);

/// <summary>
/// Checks every <see cref="IBackend"/> op of a backend against a reference backend (a
/// <see cref="CpuBackend"/>) on fresh random inputs of several shapes, odd sizes included. Outputs that
/// an op overwrites are poisoned with NaN first; outputs it accumulates into start from the same random
/// values on both backends. An op that throws is a failing row carrying the exception's message. This is what <c>rlhf selftest --device cuda</c> runs.
/// </summary>
public sealed partial class BackendSelfTest
{
    /// <summary>Tolerance for fp32 elementwise and row ops.</summary>
    public const double Fp32Tolerance = 1e-5;
    /// <summary>Tolerance for fp32 reductions over long rows (softmax, LayerNorm, column sums).</summary>
    public const double ReductionTolerance = 1e-4;
    /// <summary>Tolerance for TF32 tensor-core GEMMs (10-bit mantissa inputs, fp32 accumulation).</summary>
    public const double Tf32Tolerance = 5e-3;

    /// <summary>The largest tensor (elements) a self-test on ILGPU's CPU accelerator allocates; larger shapes are skipped.</summary>
    public const long CpuAcceleratorMaxElements = 40_000;

    private readonly IBackend _backend, _reference;
    private readonly Random _rng;
    private readonly long _maxElements;
    private readonly string _hostNote;

    /// <summary>
    /// Compares <paramref name="backend"/> with <paramref name="reference"/>; inputs come from <paramref name="seed"/>.
    /// On ILGPU's CPU accelerator, shapes with a tensor above <see cref="CpuAcceleratorMaxElements"/> are skipped
    /// (each GPU thread is an OS thread there), and the rows of the hand-written PTX ops say that they ran
    /// the CPU backend's code.
    /// </summary>
    public BackendSelfTest(IBackend backend, IBackend reference, int seed = 1234)
    {
        _backend = backend;
        _reference = reference;
        _rng = new Random(seed);
        bool onCpuAccelerator = backend is Ilgpu.IlgpuBackend { Kind: Ilgpu.IlgpuAcceleratorKind.Cpu };
        _maxElements = onCpuAccelerator ? CpuAcceleratorMaxElements : long.MaxValue;
        _hostNote = onCpuAccelerator ? "CPU backend's code (no PTX on the CPU accelerator)" : "";
    }

    /// <summary>The kernels that are hand-written PTX on CUDA (attention forward/backward, PPO loss, GAE).</summary>
    private static bool IsPtxKernel(string kernel) =>
        kernel is "attention_forward" or "attention_backward" or "ppo_loss" or "ppo_loss_inplace" or "gae_forward" or "gae_masked_normalize";

    /// <summary>The kernel families <see cref="Run"/> accepts: the names of the kernel files in every backend (snake case).</summary>
    public static IReadOnlyList<string> Ops { get; } =
    [
        "residual", "gelu", "embedding", "gather_rows", "layernorm", "matmul", "crossentropy", "logprobs",
        "sampling", "adamw", "grad_norm", "attention", "ppo_loss", "gae",
    ];

    /// <summary>Runs the checks of <paramref name="op"/> (one of <see cref="Ops"/>), or of every op when null.</summary>
    public IReadOnlyList<SelfTestRow> Run(string? op = null)
    {
        if (op != null && !Ops.Contains(op)) throw new ArgumentException($"unknown op '{op}'; known: {string.Join(", ", Ops)}", nameof(op));
        var rows = new List<SelfTestRow>();
        foreach (string name in op == null ? Ops : [op]) rows.AddRange(RunOp(name));
        return rows;
    }

    private IEnumerable<SelfTestRow> RunOp(string op) => op switch
    {
        "residual" => Residual(),
        "gelu" => Gelu(),
        "embedding" => Embedding(),
        "gather_rows" => GatherRows(),
        "layernorm" => LayerNorm(),
        "matmul" => Matmul(),
        "crossentropy" => CrossEntropy(),
        "logprobs" => LogProbs().Concat(Entropy()),
        "sampling" => Sampling(),
        "adamw" => AdamW(),
        "grad_norm" => SumOfSquares().Concat(Scale()),
        "attention" => Attention().Concat(AttentionDecode()),
        "ppo_loss" => PpoLoss(),
        "gae" => Gae().Concat(MaskedNormalize()),
        _ => throw new ArgumentException(op),
    };

    /// <summary>A fixed-width table of <paramref name="rows"/> and a summary line.</summary>
    public static string Format(IReadOnlyList<SelfTestRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{"kernel",-28} {"shape",-34} {"max rel err",12} {"tolerance",10}  result");
        foreach (var r in rows)
            sb.AppendLine($"{r.Kernel,-28} {r.Shape,-34} {r.MaxRelError,12:0.000e+00} {r.Tolerance,10:0.0e+00}  {(r.Skipped ? "skip" : r.Pass ? "pass" : "FAIL")}{(r.Note.Length > 0 ? "  " + r.Note : "")}");
        int failed = rows.Count(r => !r.Pass), skipped = rows.Count(r => r.Skipped), ran = rows.Count - skipped;
        string skips = skipped > 0 ? $" ({skipped} shapes skipped)" : "";
        sb.AppendLine(failed == 0 ? $"all {ran} checks passed{skips}" : $"{failed} of {ran} checks FAILED{skips}");
        return sb.ToString();
    }

    // ---- harness ------------------------------------------------------------------------------------

    /// <summary>
    /// Runs <paramref name="run"/> on both backends (it uploads the same host inputs, runs the op and returns
    /// the outputs) and compares. <paramref name="exact"/> compares as mismatch fractions (integer outputs).
    /// </summary>
    private SelfTestRow Compare(string kernel, string shape, double tol, Func<VerificationTensors, float[][]> run, bool exact = false)
    {
        float[][] got, want;
        try
        {
            using var b = new VerificationTensors(_backend, maxElements: _maxElements);
            got = run(b);
            _backend.Synchronize();
        }
        catch (ShapeTooLargeException e)
        {
            return new SelfTestRow(kernel, shape, double.NaN, tol, true, e.Message, Skipped: true);
        }
        catch (Exception e)
        {
            return new SelfTestRow(kernel, shape, double.NaN, tol, false, $"{e.GetType().Name}: {FirstLine(e.Message)}");
        }
        try
        {
            using var r = new VerificationTensors(_reference);
            want = run(r);
        }
        catch (Exception e)
        {
            return new SelfTestRow(kernel, shape, double.NaN, tol, false, $"reference ({_reference.Name}) failed: {e.GetType().Name}: {FirstLine(e.Message)}");
        }
        double worst = 0;
        for (int o = 0; o < want.Length; o++)
        {
            double err = exact ? MismatchFraction(got[o], want[o]) : RelativeError(got[o], want[o]);
            if (double.IsNaN(err) || err > worst) worst = err;
            if (double.IsNaN(worst)) break;
        }
        return new SelfTestRow(kernel, shape, worst, tol, worst <= tol, IsPtxKernel(kernel) ? _hostNote : "");
    }

    private static string FirstLine(string s) => s.Split('\n')[0];

    /// <summary>‖a − b‖∞ / ‖b‖∞ (absolute when the reference is all zero); NaN if a holds a NaN the reference does not.</summary>
    internal static double RelativeError(float[] a, float[] b)
    {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < b.Length; i++)
        {
            if (float.IsNaN(a[i]) && !float.IsNaN(b[i])) return double.NaN;
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
        }
        return maxRef > 0 ? maxDiff / maxRef : maxDiff;
    }

    private static double MismatchFraction(float[] a, float[] b)
    {
        int diff = 0;
        for (int i = 0; i < b.Length; i++) if (a[i] != b[i]) diff++;
        return b.Length == 0 ? 0 : (double)diff / b.Length;
    }

    private float[] Floats(long n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)_rng.NextDouble();
        return a;
    }

    private int[] Ints(long n, int lo, int hi)
    {
        var a = new int[n];
        for (long i = 0; i < n; i++) a[i] = _rng.Next(lo, hi);
        return a;
    }

    private float[] Mask(long n, double pZero)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = _rng.NextDouble() < pZero ? 0f : 1f;
        return a;
    }

    private static readonly long[] ElementwiseSizes = [1, 7, 97, 1025, (1 << 20) + 3];
}
