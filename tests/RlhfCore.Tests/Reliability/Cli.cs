using System.Diagnostics;
using RlhfCore.Cli;

namespace RlhfCore.Tests.Reliability;

/// <summary>What one run of <c>rlhf</c> left: its exit code and its two output streams.</summary>
internal readonly record struct CliResult(int Code, string Stdout, string Stderr)
{
    /// <summary>The lines of standard error that are errors (<c>error: …</c>).</summary>
    public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();

    public override string ToString() => $"exit {Code}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs the <c>rlhf</c> command in this process (fast, for many runs) or as a child process (to see streams and colour as users do).</summary>
internal static class Cli
{
    private static readonly System.CommandLine.RootCommand Root = RlhfCli.Build();

    /// <summary>
    /// Parses and runs <paramref name="args"/> here, capturing the console. An exception that escapes is a
    /// bug and fails the calling test, since the real entry point would crash with it.
    /// </summary>
    public static CliResult InProcess(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = RlhfCli.Run(Root, args);
            return new CliResult(code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    /// <summary>Runs <c>rlhf</c> as a process with both streams redirected (and, unless <paramref name="noColor"/> is false, NO_COLOR set).</summary>
    public static CliResult Process(string[] args, bool noColor = true)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlhf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (noColor) psi.Environment["NO_COLOR"] = "1";
        else psi.Environment.Remove("NO_COLOR");
        psi.Environment["TERM"] = "xterm-256color";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("rlhf did not finish in 120 s"); }
        return new CliResult(p.ExitCode, stdout, stderr.Result);
    }
}
