namespace RlhfCore.Training.Core;

/// <summary>
/// A command-line option has a value that cannot be used. The message is one line that starts with the
/// flag, e.g. <c>--batch: 2147483647 is above the maximum 65536</c>; the CLI exits with its usage code (2).
/// </summary>
public sealed class OptionException : ArgumentException
{
    /// <summary>The flag at fault, e.g. <c>--batch</c>.</summary>
    public string Flag { get; }

    /// <summary>Creates the exception; <paramref name="problem"/> follows <c>FLAG: </c>.</summary>
    public OptionException(string flag, string problem) : base($"{flag}: {problem}") => Flag = flag;
}
