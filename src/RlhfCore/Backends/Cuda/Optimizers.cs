using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

// The optimizers beyond AdamW have no NVRTC kernels: this backend cannot be tested on a machine without a
// GPU, so each one refuses by name instead of falling back to a different update.
public sealed partial class CudaBackend
{
    /// <summary>The one error for an optimizer this backend lacks, naming the backends that have it.</summary>
    internal static NotSupportedException OptimizerNotSupported(string optimizer) =>
        new($"the {optimizer} optimizer is not available on the NVRTC CUDA backend (device 'cuda'); use --device cpu, ilgpu-cpu or cuda-ilgpu");

    /// <summary>The one error for optimizer telemetry, which this backend lacks.</summary>
    private static NotSupportedException TelemetryNotSupported() =>
        new("optimizer telemetry (--telemetry-every) is not available on the NVRTC CUDA backend (device 'cuda'); use --device cpu, ilgpu-cpu or cuda-ilgpu");

    /// <inheritdoc/>
    public void SgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, long n, float lr, float momentum, float weightDecay, float gradScale, bool nesterov) =>
        throw OptimizerNotSupported("sgd");

    /// <inheritdoc/>
    public void LionUpdate(Tensor param, Tensor grad, Tensor m, long n, float lr, float beta1, float beta2, float weightDecay, float gradScale) =>
        throw OptimizerNotSupported("lion");

    /// <inheritdoc/>
    public void AdafactorUpdate(Tensor param, Tensor grad, Tensor vRow, Tensor vCol, Tensor m, int rows, int cols, float lr, float beta1, float beta2,
        float eps1, float eps2, float clipThreshold, float weightDecay, float gradScale, bool scaleParameter) =>
        throw OptimizerNotSupported("adafactor");

    /// <inheritdoc/>
    public void OptimizerStatistics(Tensor stats, Tensor param, Tensor previous, Tensor grad, Tensor momentum, Tensor v, long n, float gradScale, float vThreshold) =>
        throw TelemetryNotSupported();

    /// <inheritdoc/>
    public void AdamWUpdateWithStatistics(Tensor stats, Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps,
        float weightDecay, float gradScale, int step, float vThreshold) =>
        throw TelemetryNotSupported();

    /// <inheritdoc/>
    public void LinearCombination(Tensor output, Tensor x, Tensor y, float alpha, float beta, long n) =>
        throw OptimizerNotSupported("muon");
}
