namespace RlhfCore.Backends.Native;

/// <summary>A loaded kernel entry point: the CUfunction handle and what the compiler reported about it.</summary>
internal sealed class CudaKernel
{
    /// <summary>"module/entry", used in error messages.</summary>
    public string Name { get; }

    /// <summary>The CUfunction handle.</summary>
    public nint Function { get; }

    /// <summary>Registers per thread.</summary>
    public int Registers { get; }

    /// <summary>Local (spill and stack) memory per thread, bytes.</summary>
    public int LocalBytes { get; }

    /// <summary>The dynamic shared memory this kernel has been allowed beyond the default 48 KiB.</summary>
    internal uint DynamicSharedLimit { get; set; } = 48 * 1024;

    internal CudaKernel(string name, nint function, int registers, int localBytes)
    {
        Name = name;
        Function = function;
        Registers = registers;
        LocalBytes = localBytes;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Registers} registers, {LocalBytes} B local)";
}
