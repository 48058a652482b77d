namespace RlhfCore.Cli.Label;

/// <summary>Where a labeling session's keys come from: a terminal's key presses, or lines of piped text.</summary>
public interface ILabelInput
{
    /// <summary>The next key or line the person typed, or null when the input has ended (treated as quit).</summary>
    string? Next();
}

/// <summary>One key per line of <see cref="TextReader"/> (<c>a</c>, <c>b</c>, <c>t</c>, <c>s</c>, <c>u</c>, <c>q</c>): piped stdin, scripts, tests.</summary>
/// <param name="reader">The text to read keys from.</param>
public sealed class LineLabelInput(TextReader reader) : ILabelInput
{
    /// <inheritdoc/>
    public string? Next() => reader.ReadLine();
}

/// <summary>
/// Single key presses from the terminal, without Enter. Ctrl-C arrives as a key (and means quit) so
/// the session ends through its normal path; every judgment is on disk already either way.
/// </summary>
public sealed class ConsoleKeyLabelInput : ILabelInput, IDisposable
{
    private readonly bool _previousTreatControlC = Console.TreatControlCAsInput;

    /// <summary>Takes Ctrl-C as input until disposed.</summary>
    public ConsoleKeyLabelInput() => Console.TreatControlCAsInput = true;

    /// <inheritdoc/>
    public string? Next()
    {
        var key = Console.ReadKey(intercept: true);
        return key.Key == ConsoleKey.C && key.Modifiers.HasFlag(ConsoleModifiers.Control) ? "q" : key.KeyChar.ToString();
    }

    /// <inheritdoc/>
    public void Dispose() => Console.TreatControlCAsInput = _previousTreatControlC;
}
