using RlhfCore.Training.Core;

namespace RlhfCore.Cli.Commands;

/// <summary>Error handling every command shares.</summary>
internal static class CommonOptions
{
    /// <summary>
    /// Runs a command body and turns the errors users cause into one clear line on standard error instead
    /// of a stack trace: exit code 2 for a flag out of its range (<see cref="OptionException"/>), 1 for the
    /// rest (bad files, bad data, inconsistent flags).
    /// </summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (OptionException e)
        {
            ErrorOutput.Write(e.Message);
            return ErrorOutput.Usage;
        }
        catch (Exception e) when (e is ArgumentException or IOException or FormatException or InvalidDataException
                                      or InvalidOperationException or UnauthorizedAccessException or KeyNotFoundException
                                      or Backends.Native.CudaUnavailableException)
        {
            ErrorOutput.Write(e.Message);
            return ErrorOutput.Failure;
        }
    }
}
