using System.Runtime.InteropServices;
using System.Text;

namespace RlhfCore.Backends.Native;

/// <summary>
/// Driver-API modules and launches on one stream, shared by the NVRTC backend and the ILGPU backend's PTX
/// launchers: loads PTX or CUBIN images with <c>cuModuleLoadDataEx</c> (a JIT failure throws with the JIT's
/// log), memoizes entry points, and queues kernels with ONE by-value parameter struct. The caller makes
/// its context current before each call (the NVRTC backend's primary context, or ILGPU's own context).
/// </summary>
internal sealed unsafe class CudaModules : IDisposable
{
    private readonly CuDriver _cu = CuDriver.Api;
    private readonly Dictionary<string, nint> _modules = [];
    private readonly Dictionary<string, CudaKernel> _kernels = [];

    /// <summary>The stream every launch is queued on (CUstream).</summary>
    public nint Stream { get; }

    /// <summary>When true every launch is followed by a stream synchronize and an error check.</summary>
    public bool SyncCheck { get; set; }

    /// <summary>Launches on <paramref name="stream"/>.</summary>
    public CudaModules(nint stream) => Stream = stream;

    /// <summary>Entry point <paramref name="entry"/> of the module <paramref name="moduleName"/>, loading it from <paramref name="image"/> on first use.</summary>
    public CudaKernel Kernel(string moduleName, string entry, Func<byte[]> image)
    {
        string key = moduleName + "/" + entry;
        if (_kernels.TryGetValue(key, out var k)) return k;
        if (!_modules.TryGetValue(moduleName, out nint mod))
        {
            mod = LoadModule(image(), moduleName);
            _modules[moduleName] = mod;
        }
        return _kernels[key] = GetFunction(mod, moduleName, entry);
    }

    /// <summary>A NUL-terminated UTF-8 image of PTX text, as cuModuleLoadDataEx wants it.</summary>
    public static byte[] PtxImage(string text)
    {
        var image = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, image);
        return image;
    }

    /// <summary>Loads a CUBIN or NUL-terminated PTX image; a JIT failure throws with the JIT's error log.</summary>
    private nint LoadModule(byte[] image, string what)
    {
        const int LogSize = 16 * 1024;
        byte* log = stackalloc byte[LogSize];
        // CU_JIT_ERROR_LOG_BUFFER = 5, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6
        int* options = stackalloc int[] { 5, 6 };
        void** values = stackalloc void*[] { log, (void*)(nint)LogSize };
        log[0] = 0;
        nint mod;
        CuResult r;
        fixed (byte* p = image) r = _cu.cuModuleLoadDataEx(&mod, p, 2, options, values);
        if (r != CuResult.Success)
            throw new CudaException($"cuModuleLoadDataEx({what}) returned {CuDriver.ErrorName(r)}: {CuDriver.ErrorString(r)}\n{Marshal.PtrToStringUTF8((nint)log)}",
                "cuModuleLoadDataEx", (int)r);
        return mod;
    }

    private CudaKernel GetFunction(nint mod, string module, string entry)
    {
        nint f;
        var name = Encoding.UTF8.GetBytes(entry + "\0");
        fixed (byte* n = name)
        {
            CuResult r = _cu.cuModuleGetFunction(&f, mod, n);
            if (r != CuResult.Success)
                throw new CudaException($"kernel '{entry}' not found in {module}: {CuDriver.ErrorName(r)} (is it extern \"C\"?)", "cuModuleGetFunction", (int)r);
        }
        int regs, local;
        Check.ThrowIfFailed(_cu.cuFuncGetAttribute(&regs, CuFunctionAttribute.NumRegs, f));
        Check.ThrowIfFailed(_cu.cuFuncGetAttribute(&local, CuFunctionAttribute.LocalSizeBytes, f));
        return new CudaKernel($"{module}/{entry}", f, regs, local);
    }

    /// <summary>
    /// Queues <paramref name="k"/> on <see cref="Stream"/> with one by-value parameter struct. A grid with a
    /// zero dimension launches nothing; shared memory above 48 KiB is opted in automatically.
    /// </summary>
    public void Launch<T>(CudaKernel k, (uint x, uint y, uint z) grid, (uint x, uint y, uint z) block, uint sharedBytes, in T args)
        where T : unmanaged
    {
        if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
        if (sharedBytes > k.DynamicSharedLimit)
        {
            Check.ThrowIfFailed(_cu.cuFuncSetAttribute(k.Function, CuFunctionAttribute.MaxDynamicSharedSizeBytes, (int)sharedBytes));
            k.DynamicSharedLimit = sharedBytes;
        }
        T copy = args;
        void* param = &copy;
        CuResult r = _cu.cuLaunchKernel(k.Function, grid.x, grid.y, grid.z, block.x, block.y, block.z, sharedBytes, Stream, &param, null);
        if (r != CuResult.Success)
            throw new CudaException($"launch of {k} with grid ({grid.x}, {grid.y}, {grid.z}), block ({block.x}, {block.y}, {block.z}), " +
                $"{sharedBytes} B shared failed: {CuDriver.ErrorName(r)}: {CuDriver.ErrorString(r)}", "cuLaunchKernel", (int)r);
        if (SyncCheck)
        {
            r = _cu.cuStreamSynchronize(Stream);
            if (r != CuResult.Success)
                throw new CudaException($"kernel {k} failed: {CuDriver.ErrorName(r)}: {CuDriver.ErrorString(r)} (grid ({grid.x}, {grid.y}, {grid.z}), block ({block.x}, {block.y}, {block.z}))",
                    "cuStreamSynchronize", (int)r);
        }
    }

    /// <summary>Unloads every module (the caller's context must be current).</summary>
    public void Dispose()
    {
        foreach (nint mod in _modules.Values) _cu.cuModuleUnload(mod);
        _modules.Clear();
        _kernels.Clear();
    }
}
