namespace RlhfCore.Optim.Telemetry;

/// <summary>
/// Receives the optimizer's telemetry of each recorded step (see <see cref="GroupedOptimizer.AttachTelemetry(int, ITelemetryObserver)"/>): an embedding
/// program implements it to watch the optimizer's internals live; <see cref="TelemetryFiles"/> writes them to disk.
/// Called on the training thread, right after the update; the values are already on the host.
/// </summary>
public interface ITelemetryObserver
{
    /// <summary>One recorded step: every parameter tensor's statistics, in the parameter table's order.</summary>
    void OnStep(TelemetryStep step);
}
