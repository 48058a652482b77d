namespace RlhfCore.Cli;

/// <summary>
/// Turns Ctrl-C into a cancellation request for the lifetime of a command (the process keeps running, so
/// the trainer finishes its step and saves a checkpoint); disposing unhooks it.
/// </summary>
internal sealed class CtrlC : IDisposable
{
    private readonly CancellationTokenSource _source = new();

    public CtrlC() => Console.CancelKeyPress += OnCancel;

    /// <summary>Cancelled once Ctrl-C is pressed.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>True once Ctrl-C was pressed.</summary>
    public bool IsCancellationRequested => _source.IsCancellationRequested;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _source.Cancel();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _source.Dispose();
    }
}
