namespace RlhfCore.Optim.Telemetry;

/// <summary>The telemetry of one optimizer step.</summary>
/// <param name="Step">The optimizer's step count after this update (1 = the first update; steps skipped for non-finite gradients do not count).</param>
/// <param name="Tensors">One entry per parameter tensor, in the parameter table's order.</param>
public sealed record TelemetryStep(int Step, IReadOnlyList<TensorTelemetry> Tensors);
