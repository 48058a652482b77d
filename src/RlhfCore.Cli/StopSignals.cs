using System.Runtime.InteropServices;
using Spectre.Console;

namespace RlhfCore.Cli;

/// <summary>
/// Turns SIGINT (Ctrl-C) and SIGTERM (what schedulers, <c>timeout</c> and container stops send) into one
/// cancellation request for the lifetime of a command: the process keeps running, so the trainer finishes its
/// step and saves a checkpoint. The command then exits with <see cref="ExitCode"/>, 128 + the signal's number as
/// shells report it: 130 after SIGINT, 143 after SIGTERM. Disposing unhooks both.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    /// <summary>Exit code after SIGINT (128 + 2).</summary>
    public const int InterruptExitCode = 130;

    /// <summary>Exit code after SIGTERM (128 + 15).</summary>
    public const int TerminateExitCode = 143;

    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _first; // 0 until a signal arrives, then the exit code of the first one

    public StopSignals() =>
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];

    /// <summary>Cancelled once SIGINT or SIGTERM arrives.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True once SIGINT or SIGTERM arrived.</summary>
    public bool IsCancellationRequested => _source.IsCancellationRequested;

    /// <summary>
    /// True when a signal stopped training before its last step. A signal that arrives during the last step does not
    /// stop the run from writing its final model: it has nothing left to resume.
    /// </summary>
    public bool StoppedEarly(int stepsDone, int steps) => IsCancellationRequested && stepsDone < steps;

    /// <summary>The exit code for the first signal that arrived: 130 (SIGINT) or 143 (SIGTERM).</summary>
    public int ExitCode => Volatile.Read(ref _first) is int first and not 0 ? first : InterruptExitCode;

    /// <summary>The first signal's name, for messages.</summary>
    public string SignalName => ExitCode == TerminateExitCode ? "SIGTERM" : "SIGINT";

    /// <summary>
    /// Says where the interrupted run's checkpoint went and how to continue, and returns <see cref="ExitCode"/>:
    /// the one ending every training command shares.
    /// </summary>
    public int ReportSaved(int step, string checkpointDir)
    {
        AnsiConsole.MarkupLineInterpolated($"interrupted by {SignalName} at step {step}: checkpoint saved to {checkpointDir}; continue with --resume");
        return ExitCode;
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Cancel = true keeps the process alive (the default would end it without a checkpoint).
        context.Cancel = true;
        Interlocked.CompareExchange(ref _first, context.Signal == PosixSignal.SIGTERM ? TerminateExitCode : InterruptExitCode, 0);
        _source.Cancel();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _source.Dispose();
    }
}
