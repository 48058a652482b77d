using System.Globalization;
using RlhfCore.IO;

namespace RlhfCore.Training;

/// <summary>
/// A training run's claim on its output folder. <see cref="Open"/> decides, before anything is written, whether this
/// run may use the folder: a fresh run only where no earlier run left its files (or with <c>--overwrite</c>, which moves
/// them aside, never deleting), a <c>--resume</c> run only where the latest checkpoint verifies as the folder's run.
/// <see cref="Claim"/> is the run's first write; config.json, metrics and checkpoints come after it, so a start that
/// fails never touches another run's files. From the claim until disposal the run holds <c>run.json</c> open without
/// sharing, so a second process on the same folder is refused instead of writing between this run's files.
/// </summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>Files and folders whose presence means an earlier run wrote into the folder.</summary>
    private static readonly string[] RunFiles =
        [RunIdentity.FileName, "checkpoint", "config.json", "metrics.jsonl", "metrics.csv", "model.safetensors", "hf_config.json"];

    private readonly bool _overwrite;
    private readonly IReadOnlyList<string> _earlierRun;
    private FileStream? _lock;

    /// <summary>The output folder.</summary>
    public string OutDir { get; }

    /// <summary>Who owns the folder once claimed: this run, or (resuming) the run being continued.</summary>
    public RunIdentity Identity { get; }

    /// <summary>The folder's checkpoints, written and verified as <see cref="Identity"/>'s run.</summary>
    public CheckpointStore Checkpoints { get; }

    /// <summary>The verified checkpoint a resumed run continues from; null for a fresh run.</summary>
    public string? ResumeDirectory { get; }

    /// <summary>True once <see cref="Claim"/> ran.</summary>
    public bool IsClaimed { get; private set; }

    private RunFolder(string outDir, RunIdentity identity, string? resumeDirectory, bool overwrite, IReadOnlyList<string> earlierRun)
    {
        OutDir = outDir;
        Identity = identity;
        Checkpoints = new CheckpointStore(outDir, identity.RunId);
        ResumeDirectory = resumeDirectory;
        _overwrite = overwrite;
        _earlierRun = earlierRun;
    }

    /// <summary>
    /// Checks that <paramref name="command"/> (e.g. <c>sft</c>) may run in <paramref name="outDir"/>, writing nothing:
    /// resuming needs a checkpoint of this folder's run whose manifest verifies; a fresh run needs a folder without an
    /// earlier run's files unless <paramref name="overwrite"/> is set. Each refusal is one error naming the way out.
    /// </summary>
    public static RunFolder Open(string outDir, string command, bool resume, bool overwrite)
    {
        if (resume && overwrite)
            throw new ArgumentException("--resume and --overwrite exclude each other: --resume continues the run in --out-dir, --overwrite starts a new one there");
        var recorded = RunIdentity.Read(outDir);
        if (resume)
        {
            if (recorded != null && recorded.Command != command)
                throw new ArgumentException($"{outDir} holds an 'rlhf {recorded.Command}' run ({RunIdentity.FileName}); 'rlhf {command} --resume' cannot continue it");
            var store = new CheckpointStore(outDir, recorded?.RunId);
            string dir = store.ResumeDirectory(resume: true)!;
            return new RunFolder(outDir, recorded ?? new RunIdentity(store.RunId, command, DateTime.UtcNow), dir, overwrite: false, []);
        }

        var earlier = Directory.Exists(outDir) ? RunFiles.Where(n => Path.Exists(Path.Combine(outDir, n))).ToList() : [];
        if (earlier.Count > 0 && !overwrite)
        {
            string? latest = File.Exists(Path.Combine(outDir, "checkpoint", "latest")) ? File.ReadAllText(Path.Combine(outDir, "checkpoint", "latest")).Trim() : null;
            throw new IOException(latest != null
                ? $"{outDir} holds the checkpoints of an earlier run (latest: {latest}): continue that run with --resume, choose a new --out-dir, or pass --overwrite to move it aside first"
                : $"{outDir} holds the files of an earlier run ({string.Join(", ", earlier)}) but no checkpoint to --resume: choose a new --out-dir, or pass --overwrite to move them aside first");
        }
        return new RunFolder(outDir, new RunIdentity(RunIdentity.NewRunId(), command, DateTime.UtcNow), null, overwrite, earlier);
    }

    /// <summary>
    /// The run's first write, made after its inputs are loaded: with <c>--overwrite</c>, moves the earlier run's folder
    /// aside (returned, so the caller can say where); removes temporary files killed processes left; records the
    /// run in <c>run.json</c>. Returns null when nothing was moved.
    /// </summary>
    public string? Claim()
    {
        if (IsClaimed) throw new InvalidOperationException($"{OutDir} is already claimed by this run");
        string? aside = null;
        if (ResumeDirectory == null && _overwrite && _earlierRun.Count > 0) aside = MoveAside();
        Directory.CreateDirectory(OutDir);
        if (RunIdentity.Read(OutDir) == null) Identity.Write(OutDir);
        _lock = Lock();
        // Only now, with the folder locked, are temporary names surely no other live process's.
        AtomicFile.RemoveLeftovers(OutDir);
        Checkpoints.RemoveLeftovers();
        IsClaimed = true;
        return aside;
    }

    /// <summary>Releases the folder for other processes.</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    private FileStream Lock()
    {
        string path = Path.Combine(OutDir, RunIdentity.FileName);
        try
        {
            // FileShare.None is an exclusive lock (flock on Unix), released when the process ends, however it ends.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new IOException($"{OutDir} is in use by another rlhf process (it holds {path}): wait for it to end, or choose another --out-dir", e);
        }
    }

    private string MoveAside()
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(OutDir));
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string aside = $"{full}.replaced-{stamp}";
        for (int i = 2; Path.Exists(aside); i++) aside = $"{full}.replaced-{stamp}-{i}";
        try
        {
            Directory.Move(full, aside);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--overwrite: cannot move the earlier run in {OutDir} aside to {aside}: {e.Message}", e);
        }
        return aside;
    }
}
