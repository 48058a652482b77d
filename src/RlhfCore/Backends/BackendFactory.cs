using RlhfCore.Backends.Cpu;

namespace RlhfCore.Backends;

/// <summary>Creates a backend by name.</summary>
public static class BackendFactory
{
    /// <summary>The backend named <paramref name="device"/> ("cpu").</summary>
    public static IBackend Create(string device, int threads) => device switch
    {
        "cpu" => new CpuBackend(threads),
        _ => throw new ArgumentException($"unknown device '{device}' (cpu)"),
    };
}
