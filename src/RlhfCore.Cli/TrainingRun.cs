using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Optim.Telemetry;
using RlhfCore.Training;
using RlhfCore.Training.Core;
using Spectre.Console;

namespace RlhfCore.Cli;

/// <summary>
/// The scaffold every training command (sft, reward, dpo, ppo) runs in, written once: the run folder
/// (fresh, <c>--resume</c> or <c>--overwrite</c>), the backend, the tokenizer, the model to train (the
/// checkpoint when resuming, else <c>--init-from</c>, else a fresh preset), the vocabulary check, the claim
/// with <c>config.json</c> and the banner, the metrics log, Ctrl-C/SIGTERM with the interrupted branch (save a
/// checkpoint, exit 130 or 143), and the final model file. A command keeps only what is its own: its data,
/// its trainer, its metrics row and status line, its charts and summaries.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    private readonly TrainerOptions _o;
    private readonly IBackend? _ownedBackend;
    private MetricsLog? _metrics;
    // Held until the run is disposed, so a signal during the final save is caught too (and ignored: nothing is left to resume).
    private StopSignals? _signals;
    private TelemetryFiles? _telemetry;

    private TrainingRun(TrainerOptions o, RunFolder folder, IBackend backend, bool ownsBackend)
    {
        _o = o;
        Folder = folder;
        Backend = backend;
        if (ownsBackend) _ownedBackend = backend;
    }

    /// <summary>The run's folder and checkpoint store.</summary>
    public RunFolder Folder { get; }

    /// <summary>The backend the run trains on.</summary>
    public IBackend Backend { get; }

    /// <summary>The checkpoint folder a <c>--resume</c> continues from, or null for a fresh run.</summary>
    public string? ResumeDirectory => Folder.ResumeDirectory;

    /// <summary>The metrics log, once <see cref="Train"/> has opened it.</summary>
    public MetricsLog Metrics => _metrics ?? throw new InvalidOperationException("the metrics log opens when training starts");

    /// <summary>
    /// Opens the run folder of <paramref name="stage"/> (the checks of <c>--resume</c> and <c>--overwrite</c>), then
    /// the backend, unless the caller shares <paramref name="backend"/> across runs (a reward ensemble's members).
    /// </summary>
    public static TrainingRun Open(TrainerOptions o, string stage, IBackend? backend = null)
    {
        var folder = RunFolder.Open(o.OutDir, stage, o.Resume, o.Overwrite);
        try
        {
            return new TrainingRun(o, folder, backend ?? BackendFactory.Create(o.Device, o.Threads), ownsBackend: backend == null);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>The tokenizer the flags name.</summary>
    public ITokenizer Tokenizer() => TokenizerFactory.Create(_o.Tokenizer, _o.TokenizerDir);

    /// <summary>
    /// The model to train: the checkpoint's when resuming, else <c>--init-from</c>'s, else <paramref name="fresh"/>()
    /// (null when the stage has no fresh model). <paramref name="heads"/> the file lacks start from the seed.
    /// </summary>
    public GptModel LoadModel(Func<GptModel>? fresh, ModelHeads heads = ModelHeads.None) =>
        ResumeDirectory != null ? ModelFiles.Load(Path.Combine(ResumeDirectory, "model.safetensors"), Backend, heads, _o.Seed)
        : _o.InitFrom != null ? ModelFiles.Load(_o.InitFrom, Backend, heads, _o.Seed)
        : fresh?.Invoke() ?? throw new InvalidOperationException("no model source: the stage needs --init-from");

    /// <summary>A fresh model of preset <paramref name="preset"/> with <paramref name="heads"/>, initialized from the seed.</summary>
    public GptModel FreshModel(string preset, ModelHeads heads = ModelHeads.None)
    {
        var model = new GptModel(Backend, GptConfig.Preset(preset), heads);
        model.InitializeWeights(_o.Seed);
        return model;
    }

    /// <summary>
    /// The one vocabulary check: <paramref name="tokenizer"/>'s ids must fit <paramref name="model"/>, whose source
    /// the error names (the checkpoint, <c>--init-from</c>, or the <c>--model</c> <paramref name="preset"/>).
    /// </summary>
    public void RequireVocabulary(ITokenizer tokenizer, GptModel model, string? preset) =>
        VocabularyMatch.Require(tokenizer, model.Config.VocabSize,
            ResumeDirectory != null ? $"checkpoint {ResumeDirectory}" : _o.InitFrom != null ? $"--init-from {_o.InitFrom}" : $"--model {preset}");

    /// <summary>
    /// Restores the trainer from the checkpoint when resuming, claims the folder, writes <c>config.json</c>
    /// (<paramref name="config"/> with the run id first) and prints <paramref name="banner"/> and where a resume starts.
    /// </summary>
    public void Begin(GptModel model, GroupedOptimizer optimizer, Action<TrainerState> restore, object config, FormattableString banner, Func<int> stepsDone)
    {
        if (ResumeDirectory != null) restore(Folder.Checkpoints.Load(model, optimizer));
        RecordTelemetry(optimizer);
        BeginClaimed(config, banner, stepsDone);
    }

    /// <summary>
    /// With <c>--telemetry-every N</c>, attaches the recorder of <c>telemetry.jsonl</c> to <paramref name="optimizer"/>;
    /// called after any restore, so a resumed run drops the recorded steps past its checkpoint and continues the file.
    /// The heatmaps are drawn when training ends.
    /// </summary>
    public void RecordTelemetry(GroupedOptimizer optimizer)
    {
        if (_o.TelemetryEvery == 0) return;
        _telemetry = new TelemetryFiles(_o.OutDir, optimizer.Step);
        optimizer.AttachTelemetry(_o.TelemetryEvery, _telemetry);
    }

    /// <summary><see cref="Begin"/> for a trainer that restores itself (PPO's checkpoint holds more than the store's state).</summary>
    public void BeginClaimed(object config, FormattableString banner, Func<int> stepsDone)
    {
        RunFiles.ReportClaim(Folder);
        RunFiles.WriteConfig(Folder, config);
        AnsiConsole.MarkupLineInterpolated(banner);
        if (ResumeDirectory != null) AnsiConsole.MarkupLineInterpolated($"resuming from {ResumeDirectory} at step {stepsDone()}");
    }

    /// <summary>
    /// Trains under a progress display, the metrics log (earlier rows kept when resuming) and the stop signals:
    /// <paramref name="train"/> gets the stop token, the log and the progress callback. Returns null when training
    /// ended, or, when a signal stopped it early, saves a checkpoint with <paramref name="checkpoint"/> and returns
    /// the exit code (130 after SIGINT, 143 after SIGTERM).
    /// </summary>
    public int? Train(Func<int> stepsDone, Action<CancellationToken, MetricsLog, Action<int, string>> train, Func<string> checkpoint)
    {
        _metrics = RunFiles.OpenMetrics(Folder, stepsDone());
        var cancel = _signals = new StopSignals();
        TrainingProgress.Run(_o.Steps, stepsDone(), report => train(cancel.Token, _metrics, report));
        _telemetry?.WriteHeatmaps();
        return cancel.StoppedEarly(stepsDone(), _o.Steps) ? cancel.ReportSaved(stepsDone(), checkpoint()) : null;
    }

    /// <summary>Writes <paramref name="model"/> as <c>model.safetensors</c> (and, unless not <paramref name="hfConfig"/>, <c>hf_config.json</c>); returns its path.</summary>
    public string SaveModel(GptModel model, bool hfConfig = true)
    {
        string path = Path.Combine(_o.OutDir, "model.safetensors");
        Gpt2Checkpoint.Save(path, model.Config, model.Heads, model.Parameters);
        if (hfConfig) Gpt2Checkpoint.WriteHfConfig(Path.Combine(_o.OutDir, "hf_config.json"), model.Config);
        return path;
    }

    /// <summary>The closing line every stage prints after saving.</summary>
    public void ReportSaved(string modelPath, int skipped, string what = "steps") =>
        AnsiConsole.MarkupLineInterpolated($"saved {modelPath}; {skipped} {what} skipped for non-finite values; metrics in {Metrics.JsonlPath}");

    /// <inheritdoc/>
    public void Dispose()
    {
        _signals?.Dispose();
        _telemetry?.Dispose();
        _metrics?.Dispose();
        _ownedBackend?.Dispose();
        Folder.Dispose();
    }
}
