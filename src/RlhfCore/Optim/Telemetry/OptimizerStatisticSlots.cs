namespace RlhfCore.Optim.Telemetry;

/// <summary>
/// The layout of one parameter tensor's row in the telemetry statistics buffer (F32). The backend's
/// <c>OptimizerStatistics</c> writes slots <see cref="GradSq"/> to <see cref="VBelow"/>; Muon's step writes
/// <see cref="GramSq"/> and <see cref="OrthoSq"/> with two sums of squares; the host turns them into
/// <see cref="TensorTelemetry"/> after its one read of the whole buffer.
/// </summary>
public static class OptimizerStatisticSlots
{
    /// <summary>Σ (gradScale·grad)².</summary>
    public const int GradSq = 0;
    /// <summary>Σ param² after the step.</summary>
    public const int ParamSq = 1;
    /// <summary>Σ param² before the step.</summary>
    public const int PreviousSq = 2;
    /// <summary>Σ (param − previous)².</summary>
    public const int UpdateSq = 3;
    /// <summary>mean |momentum| (0 without momentum).</summary>
    public const int MomentumAbsMean = 4;
    /// <summary>Σ momentum².</summary>
    public const int MomentumSq = 5;
    /// <summary>Σ (gradScale·grad)·momentum.</summary>
    public const int GradDotMomentum = 6;
    /// <summary>Fraction of elements where sign(previous − param) = sign(momentum) (sign(0) = 0).</summary>
    public const int SignAgreement = 7;
    /// <summary>mean v (0 without a second moment).</summary>
    public const int VMean = 8;
    /// <summary>max v.</summary>
    public const int VMax = 9;
    /// <summary>Fraction of elements with v below the threshold.</summary>
    public const int VBelow = 10;
    /// <summary>Slots the backend's statistics kernel writes: [0, KernelSlots).</summary>
    public const int KernelSlots = 11;
    /// <summary>‖G‖²_F of the Gram G of Muon's Newton–Schulz output (the small side: K×K, K = min(rows, cols)).</summary>
    public const int GramSq = 11;
    /// <summary>‖X‖²_F of Muon's Newton–Schulz output X (= trace of its Gram).</summary>
    public const int OrthoSq = 12;
    /// <summary>Floats per tensor row (padded to 16, one 64-byte line).</summary>
    public const int Stride = 16;
}
