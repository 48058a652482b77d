namespace RlhfCore.Cli;

/// <summary>
/// Where errors go: standard error, one line per error whatever its length (never wrapped to the
/// terminal's width, so a log's first line is the whole message), with a red <c>error:</c> only when
/// standard error is a terminal and <c>NO_COLOR</c> is not set (https://no-color.org).
/// </summary>
internal static class ErrorOutput
{
    /// <summary>Exit code of a run that failed on bad input: a file, data or a runtime check.</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a bad command line: an unknown flag, a value that does not parse or is out of its range.</summary>
    public const int Usage = 2;

    /// <summary>Writes <c>error: MESSAGE</c> as one line to standard error.</summary>
    public static void Write(string message)
    {
        string line = OneLine(message);
        Console.Error.WriteLine(UseColour() ? $"\u001b[31merror:\u001b[0m {line}" : $"error: {line}");
    }

    /// <summary>A message's lines joined with spaces.</summary>
    public static string OneLine(string message) =>
        string.Join(" ", message.Split((char[])['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static bool UseColour() =>
        !Console.IsErrorRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
}
