using System.Runtime.InteropServices;
using System.Text;

namespace RlhfCore.Backends.Native;

/// <summary>nvrtcResult values this code names.</summary>
internal enum NvrtcResult
{
    Success = 0,
    CompilationError = 6,
}

/// <summary>
/// NVRTC, the CUDA C++ runtime compiler, bound by function pointer at first use. Works without a GPU,
/// which is how the CPU-only test suite compiles every kernel source.
/// </summary>
internal sealed unsafe class Nvrtc
{
    /// <summary>Library names tried, newest first.</summary>
    public static readonly string[] LibraryNames =
        ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so", "nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"];

    private static readonly Lazy<Nvrtc> Instance = new(() => new Nvrtc());

    /// <summary>The loaded NVRTC; throws <see cref="CudaUnavailableException"/> when it is missing.</summary>
    public static Nvrtc Api => Instance.Value;

    public readonly delegate* unmanaged<int*, int*, NvrtcResult> nvrtcVersion;
    public readonly delegate* unmanaged<NvrtcResult, byte*> nvrtcGetErrorString;
    public readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, NvrtcResult> nvrtcCreateProgram;
    public readonly delegate* unmanaged<nint*, NvrtcResult> nvrtcDestroyProgram;
    public readonly delegate* unmanaged<nint, int, byte**, NvrtcResult> nvrtcCompileProgram;
    public readonly delegate* unmanaged<nint, nuint*, NvrtcResult> nvrtcGetProgramLogSize;
    public readonly delegate* unmanaged<nint, byte*, NvrtcResult> nvrtcGetProgramLog;
    public readonly delegate* unmanaged<nint, nuint*, NvrtcResult> nvrtcGetCUBINSize;
    public readonly delegate* unmanaged<nint, byte*, NvrtcResult> nvrtcGetCUBIN;
    public readonly delegate* unmanaged<nint, nuint*, NvrtcResult> nvrtcGetPTXSize;
    public readonly delegate* unmanaged<nint, byte*, NvrtcResult> nvrtcGetPTX;

    private Nvrtc()
    {
        const string What = "NVRTC (the CUDA runtime compiler)";
        nint lib = NativeLoader.Load(What, LibraryNames);
        nint F(string s) => NativeLoader.Export(lib, What, s);
        nvrtcVersion = (delegate* unmanaged<int*, int*, NvrtcResult>)F("nvrtcVersion");
        nvrtcGetErrorString = (delegate* unmanaged<NvrtcResult, byte*>)F("nvrtcGetErrorString");
        nvrtcCreateProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, NvrtcResult>)F("nvrtcCreateProgram");
        nvrtcDestroyProgram = (delegate* unmanaged<nint*, NvrtcResult>)F("nvrtcDestroyProgram");
        nvrtcCompileProgram = (delegate* unmanaged<nint, int, byte**, NvrtcResult>)F("nvrtcCompileProgram");
        nvrtcGetProgramLogSize = (delegate* unmanaged<nint, nuint*, NvrtcResult>)F("nvrtcGetProgramLogSize");
        nvrtcGetProgramLog = (delegate* unmanaged<nint, byte*, NvrtcResult>)F("nvrtcGetProgramLog");
        nvrtcGetCUBINSize = (delegate* unmanaged<nint, nuint*, NvrtcResult>)F("nvrtcGetCUBINSize");
        nvrtcGetCUBIN = (delegate* unmanaged<nint, byte*, NvrtcResult>)F("nvrtcGetCUBIN");
        nvrtcGetPTXSize = (delegate* unmanaged<nint, nuint*, NvrtcResult>)F("nvrtcGetPTXSize");
        nvrtcGetPTX = (delegate* unmanaged<nint, byte*, NvrtcResult>)F("nvrtcGetPTX");
    }

    /// <summary>NVRTC's description of <paramref name="r"/>.</summary>
    public static string ErrorString(NvrtcResult r) => Marshal.PtrToStringUTF8((nint)Api.nvrtcGetErrorString(r)) ?? $"nvrtcResult {(int)r}";

    /// <summary>The NVRTC version as (major, minor).</summary>
    public (int Major, int Minor) Version
    {
        get
        {
            int major, minor;
            Check.ThrowIfFailed(nvrtcVersion(&major, &minor));
            return (major, minor);
        }
    }

    /// <summary>
    /// Compiles <paramref name="source"/> with <paramref name="options"/> and returns the CUBIN (when
    /// <paramref name="cubin"/>) or the NUL-terminated PTX, plus the compiler log. A compile error throws
    /// with the whole log, which names the file and line.
    /// </summary>
    /// <param name="headers">In-memory headers the source may #include by name.</param>
    public (byte[] Image, string Log) Compile(string source, string name, IReadOnlyList<(string Name, string Text)> headers,
        IReadOnlyList<string> options, bool cubin)
    {
        nint prog = 0;
        byte[] src = NulTerminated(source), nm = NulTerminated(name);
        var pinned = headers.SelectMany(h => new[] { NulTerminated(h.Text), NulTerminated(h.Name) })
            .Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            byte** texts = stackalloc byte*[Math.Max(1, headers.Count)];
            byte** names = stackalloc byte*[Math.Max(1, headers.Count)];
            for (int i = 0; i < headers.Count; i++)
            {
                texts[i] = (byte*)pinned[2 * i].AddrOfPinnedObject();
                names[i] = (byte*)pinned[2 * i + 1].AddrOfPinnedObject();
            }
            fixed (byte* s = src, n = nm)
                Check.ThrowIfFailed(nvrtcCreateProgram(&prog, s, n, headers.Count, texts, names));
        }
        finally
        {
            foreach (var h in pinned) h.Free();
        }
        try
        {
            var handles = options.Select(o => GCHandle.Alloc(NulTerminated(o), GCHandleType.Pinned)).ToArray();
            NvrtcResult result;
            string log;
            try
            {
                byte** opts = stackalloc byte*[Math.Max(1, handles.Length)];
                for (int i = 0; i < handles.Length; i++) opts[i] = (byte*)handles[i].AddrOfPinnedObject();
                result = nvrtcCompileProgram(prog, handles.Length, opts);
                log = Log(prog);
            }
            finally
            {
                foreach (var h in handles) h.Free();
            }
            if (result != NvrtcResult.Success)
                throw new CudaException($"NVRTC could not compile {name} ({string.Join(" ", options)}): {ErrorString(result)}\n{log}",
                    "nvrtcCompileProgram", (int)result);
            nuint size;
            byte[] image;
            if (cubin)
            {
                Check.ThrowIfFailed(nvrtcGetCUBINSize(prog, &size));
                image = new byte[size];
                fixed (byte* p = image) Check.ThrowIfFailed(nvrtcGetCUBIN(prog, p));
            }
            else
            {
                Check.ThrowIfFailed(nvrtcGetPTXSize(prog, &size));
                image = new byte[size];
                fixed (byte* p = image) Check.ThrowIfFailed(nvrtcGetPTX(prog, p));
            }
            return (image, log);
        }
        finally
        {
            nvrtcDestroyProgram(&prog);
        }
    }

    private string Log(nint prog)
    {
        nuint size;
        Check.ThrowIfFailed(nvrtcGetProgramLogSize(prog, &size));
        if (size <= 1) return "";
        var buf = new byte[size];
        fixed (byte* p = buf) Check.ThrowIfFailed(nvrtcGetProgramLog(prog, p));
        return Encoding.UTF8.GetString(buf, 0, (int)size - 1);
    }

    private static byte[] NulTerminated(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
