using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using RlhfCore.Backends.Native;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

// Our driver-API layer inside ILGPU's CUDA context. ILGPU creates its own context (cuCtxCreate, not the
// primary one) and caches the current accelerator per thread (Accelerator.Bind skips cuCtxSetCurrent when
// it believes its context is current), so nothing here switches contexts: every driver and cuBLASLt call
// is made after Bind(), in CudaAccelerator.NativePtr's context, on CudaStream.StreamPtr — the same stream
// the ILGPU kernels are queued on, so stream order alone orders them. Buffers are ILGPU's: a tensor's
// address is its MemoryBuffer.NativePtr plus an offset, a device pointer.
public sealed unsafe partial class IlgpuBackend
{
    private CudaModules? _ptx;
    private Native.CudaKernel? _ptxAttentionForward, _ptxAttentionDot, _ptxAttentionDkdv, _ptxAttentionDq, _ptxPpoLoss, _ptxGaeScan, _ptxGaeMoments, _ptxMaskedNormalize;
    private CublasLtGemm? _gemm;
    private MemoryBuffer1D<byte, Stride1D.Dense>? _gemmWorkspace;
    private string _gemmUnavailableReason = "CPU accelerator";

    /// <summary>When false, GEMMs use the tiled ILGPU kernel even where cuBLASLt is available (for testing and comparison).</summary>
    public bool UseCublasLt { get; set; } = true;

    /// <summary>What runs GEMMs: cuBLASLt (TF32) or the tiled ILGPU kernel, with the reason cuBLASLt is not used.</summary>
    public string GemmEngine => _gemm != null && UseCublasLt ? "cuBLASLt (TF32)" : $"tiled ILGPU kernel ({(_gemm != null ? "cuBLASLt disabled" : _gemmUnavailableReason)})";

    /// <summary>When true, every hand-written PTX launch is followed by a stream synchronize and a check (CUDA only; for selftest and debugging).</summary>
    public bool SyncCheck
    {
        get => _ptx?.SyncCheck ?? false;
        set
        {
            if (_ptx != null) _ptx.SyncCheck = value;
        }
    }

    /// <summary>The CUDA context ILGPU created (CUcontext), or 0 on the CPU accelerator.</summary>
    internal nint CudaContext => _accelerator is CudaAccelerator cuda ? cuda.NativePtr : 0;

    /// <summary>The CUstream every op is queued on, or 0 on the CPU accelerator.</summary>
    internal nint CudaStreamHandle => _stream is CudaStream s ? s.StreamPtr : 0;

    private void OpenCudaInterop(CudaAccelerator cuda)
    {
        cuda.Bind();
        _ptx = new CudaModules(CudaStreamHandle) { SyncCheck = Environment.GetEnvironmentVariable(Cuda.CudaBackend.SyncCheckVariable) == "1" };
        // Every PTX entry point is loaded (JIT-compiled by the driver) now, so no op loads or allocates later.
        _ptxAttentionForward = PtxKernel("attention_forward.ptx", "attention_forward");
        _ptxAttentionDot = PtxKernel("attention_backward.ptx", "attention_backward_dot");
        _ptxAttentionDkdv = PtxKernel("attention_backward.ptx", "attention_backward_dkdv");
        _ptxAttentionDq = PtxKernel("attention_backward.ptx", "attention_backward_dq");
        _ptxPpoLoss = PtxKernel("ppo_loss.ptx", "ppo_loss");
        _ptxGaeScan = PtxKernel("gae.ptx", "gae_scan");
        _ptxGaeMoments = PtxKernel("gae.ptx", "gae_moments");
        _ptxMaskedNormalize = PtxKernel("gae.ptx", "masked_normalize");
        try
        {
            _gemmWorkspace = _accelerator.Allocate1D<byte>(CublasLtGemm.WorkspaceBytes);
            _gemm = new CublasLtGemm(CudaStreamHandle, _gemmWorkspace.NativePtr);
        }
        catch (CudaUnavailableException e)
        {
            _gemmUnavailableReason = e.Message;
            _gemmWorkspace?.Dispose();
            _gemmWorkspace = null;
        }
    }

    private void DisposeCudaInterop()
    {
        if (_accelerator is not CudaAccelerator) return;
        _accelerator.Bind();
        _gemm?.Dispose();
        _gemm = null;
        _gemmWorkspace?.Dispose();
        _ptx?.Dispose();
    }

    /// <summary>The driver-API launcher in ILGPU's context (CUDA only).</summary>
    private CudaModules Ptx
    {
        get
        {
            _accelerator.Bind();
            return _ptx ?? throw new InvalidOperationException("the hand-written PTX runs only on the CUDA accelerator");
        }
    }

    /// <summary>Entry point <paramref name="entry"/> of the embedded kernels/ptx/<paramref name="file"/>.</summary>
    private Native.CudaKernel PtxKernel(string file, string entry) =>
        Ptx.Kernel(file, entry, () => CudaModules.PtxImage(Cuda.KernelSources.Ptx(file)));

    /// <summary>A device pointer to at least <paramref name="bytes"/> of scratch (valid until the next op using scratch).</summary>
    private nint ScratchPointer(long bytes)
    {
        ScratchBytes(bytes);
        return _scratch!.NativePtr;
    }

    /// <summary>Records a CUDA event on the stream (for timing; CUDA only); the caller owns and destroys it.</summary>
    internal Cuda.GpuEvent RecordEvent()
    {
        _accelerator.Bind();
        var e = new Cuda.GpuEvent(CuDriver.Api);
        Check.ThrowIfFailed(CuDriver.Api.cuEventRecord(e.Handle, CudaStreamHandle));
        return e;
    }

    /// <summary>Sets every 32-bit word of <paramref name="t"/> to <paramref name="bits"/> on the stream (CUDA only).</summary>
    private void Fill32(Tensor t, uint bits)
    {
        if (t.Length == 0) return;
        _accelerator.Bind();
        Check.ThrowIfFailed(CuDriver.Api.cuMemsetD32Async(t.Address, bits, (nuint)t.Length, CudaStreamHandle));
    }

    /// <summary>cuBLASLt GEMM on CUDA (see <see cref="CublasLtGemm.Gemm"/>); false on the CPU accelerator, without cuBLASLt, or for a shape it rejects.</summary>
    private bool CublasGemm(int transA, int transB, int m, int n, int k, Tensor a, int lda, Tensor b, int ldb, Tensor d, int ldd, Tensor bias, bool accumulate)
    {
        if (_gemm == null || !UseCublasLt) return false;
        _accelerator.Bind();
        return _gemm.Gemm(transA, transB, m, n, k, a.Address, lda, b.Address, ldb, d.Address, ldd, bias.Address, accumulate);
    }
}

/// <summary>
/// Points ILGPU's <c>[DllImport("cuda")]</c> (its Linux library name; <c>nvcuda</c> on Windows) at the driver
/// library: the loader turns "cuda" into <c>libcuda.so</c>, and a machine with only the driver (no toolkit)
/// may have just <c>libcuda.so.1</c>. ILGPU 1.5.3 installs its own resolver for its assembly on WSL (in
/// <c>Context.Builder.Cuda()</c>, for /usr/lib/wsl/lib), and an assembly takes one resolver only, so there
/// ours stands aside.
/// </summary>
internal static class CudaLibraryResolver
{
    private static int s_installed;

    /// <summary>Installs the resolver for ILGPU's assembly once per process (not on WSL).</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 1 || IsWsl()) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, (name, _, _) =>
                name is "cuda" or "nvcuda" && TryLoadDriver(out nint h) ? h : 0);
        }
        catch (InvalidOperationException)
        {
            // Another resolver was set for ILGPU's assembly first: it decides where the driver comes from.
        }
    }

    private static bool IsWsl()
    {
        try
        {
            return OperatingSystem.IsLinux() && File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryLoadDriver(out nint handle)
    {
        try
        {
            handle = NativeLoader.Load("the CUDA driver", OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"]);
            return true;
        }
        catch (CudaUnavailableException)
        {
            handle = 0;
            return false;
        }
    }
}
