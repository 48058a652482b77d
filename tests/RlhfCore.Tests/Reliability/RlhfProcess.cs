using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using RlhfCore.IO;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// The built <c>rlhf</c> command as a child process (the way schedulers and users run it), with signals delivered
/// by <c>kill(2)</c>, and the tiny training run every reliability test uses: byte-tiny on an llm.c token shard,
/// one thread, so a run is deterministic and takes seconds.
/// </summary>
internal static class RlhfProcess
{
    public const int SigKill = 9, SigInt = 2, SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int sig);

    /// <summary>A running <c>rlhf</c>; its stdout and stderr are collected into <see cref="Output"/>.</summary>
    public sealed class Running(Process process, StringBuilder output) : IDisposable
    {
        public Process Process { get; } = process;

        public string Output { get { lock (output) return output.ToString(); } }

        /// <summary>Sends <paramref name="signal"/> to the process.</summary>
        public void Signal(int signal)
        {
            if (SysKill(Process.Id, signal) != 0 && !Process.HasExited) Assert.Fail($"kill({Process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        /// <summary>Waits for the exit (failing the test after <paramref name="timeoutMs"/>) and returns the exit code.</summary>
        public int Wait(int timeoutMs = 120_000)
        {
            if (!Process.WaitForExit(timeoutMs)) { Process.Kill(true); Assert.Fail($"rlhf did not finish in {timeoutMs / 1000} s:\n{Output}"); }
            Process.WaitForExit(); // drains the asynchronous output readers
            return Process.ExitCode;
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(true);
            Process.Dispose();
        }
    }

    public static Running Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlhf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var output = new StringBuilder();
        var p = new Process { StartInfo = psi };
        void Append(object? _, DataReceivedEventArgs e) { if (e.Data != null) lock (output) output.AppendLine(e.Data); }
        p.OutputDataReceived += Append;
        p.ErrorDataReceived += Append;
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new Running(p, output);
    }

    public static (int Code, string Output) Run(params string[] args)
    {
        using var r = Start(args);
        int code = r.Wait();
        return (code, r.Output);
    }

    /// <summary>Output with line breaks turned into spaces (Spectre.Console wraps long lines).</summary>
    public static string Flat(string s) => string.Join(" ", s.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));

    /// <summary>Writes a token shard of a repeating byte pattern and returns its path.</summary>
    public static string Shard(string dir, int tokens = 6000)
    {
        string path = Path.Combine(dir, "train.bin");
        LlmcTokenShard.Write(path, Enumerable.Range(0, tokens).Select(i => (int)"abcabcabd"[i % 9]).ToArray());
        return path;
    }

    /// <summary>The arguments of a tiny deterministic SFT run on <paramref name="shard"/> into <paramref name="outDir"/>.</summary>
    public static string[] Sft(string shard, string outDir, int steps, int checkpointEvery, params string[] more) =>
        ["sft", "--data", shard, "--model", "byte-tiny", "--steps", $"{steps}", "--batch", "2", "--seq-len", "16", "--threads", "1",
         "--eval-fraction", "0", "--eval-every", "0", "--checkpoint-every", $"{checkpointEvery}", "--out-dir", outDir, .. more];

    /// <summary>Every file under <paramref name="dir"/> (relative path → SHA-256), to prove a folder was left exactly as it was.</summary>
    public static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>Temporary files and folders (ours end in .tmp or .replaced) anywhere under <paramref name="dir"/>.</summary>
    public static List<string> Leftovers(string dir) =>
        Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".tmp", StringComparison.Ordinal) || p.EndsWith(".replaced", StringComparison.Ordinal)).ToList();
}
