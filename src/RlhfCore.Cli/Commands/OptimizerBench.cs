using RlhfCore.Backends;
using RlhfCore.Cli.Options;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training;
using RlhfCore.Training.Sft;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf bench --optimizers</c>: trains the same preset from the same initialization on the same tinyshakespeare batches
/// with each update rule at its documented default learning rate (<see cref="Rules"/>), and prints side by side the final
/// train loss (mean of the last 10 steps), the held-out loss, the median step time and the median optimizer-update time
/// (the update's kernels alone, the device synchronized around them).
/// </summary>
internal static class OptimizerBench
{
    /// <summary>Steps whose training loss is averaged into the "final train loss".</summary>
    private const int LastSteps = 10;

    /// <summary>Held-out batches of the final evaluation (always the same ones).</summary>
    private const int EvalBatches = 8;

    /// <summary>Under Muon, the tensors AdamW updates keep AdamW's rate: 1e-3 / 0.02 = 0.05 of Muon's.</summary>
    private static readonly string[] MuonAdamWGroups = ["wte:lr=0.05", "wpe:lr=0.05", "ln_f:lr=0.05", "h.*.ln_*:lr=0.05", "h.*c_*.bias:lr=0.05"];

    /// <summary>
    /// Each rule with its default rate and where that rate comes from (the README's table states the same):
    /// AdamW 1e-3, nanoGPT's config/train_shakespeare_char.py (a small character model on this data);
    /// SGD 0.1 with momentum 0.9, the classic rate of momentum SGD (He et al. 2016, torchvision's reference recipes);
    /// Lion 1e-4, lucidrains/lion-pytorch's default (Chen et al. 2023 advise 3–10× below AdamW's);
    /// Muon 0.02, KellerJordan/Muon's default, with AdamW's 1e-3 on the tensors Muon does not take;
    /// Adafactor 1e-3, Hugging Face's documented external rate (relative_step=False, scale_parameter=False).
    /// </summary>
    public static readonly IReadOnlyList<(OptimizerKind Kind, float Lr, string[] Groups)> Rules =
    [
        (OptimizerKind.AdamW, 1e-3f, []),
        (OptimizerKind.Sgd, 0.1f, []),
        (OptimizerKind.Lion, 1e-4f, []),
        (OptimizerKind.Muon, 0.02f, MuonAdamWGroups),
        (OptimizerKind.Adafactor, 1e-3f, []),
    ];

    /// <summary>The relative path of tinyshakespeare inside the shared test data.</summary>
    private static readonly string DataPath = Path.Combine("shared", "data", "tinyshakespeare", "input.txt");

    /// <summary>
    /// <paramref name="data"/> when given; else shared/data/tinyshakespeare/input.txt under the current folder, the program's
    /// folder or any folder above either (so a clone with ../shared beside it finds it from its root or its build output).
    /// Absent: one error naming where it looked and the flag.
    /// </summary>
    private static string LocateData(string? data)
    {
        if (!string.IsNullOrEmpty(data))
            return File.Exists(data) ? data : throw new FileNotFoundException($"--data {data}: no such file (tinyshakespeare's input.txt)", data);
        string[] starts = [Directory.GetCurrentDirectory(), AppContext.BaseDirectory];
        foreach (string start in starts)
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, DataPath);
                if (File.Exists(candidate)) return candidate;
            }
        throw new FileNotFoundException(
            $"tinyshakespeare not found: looked for {DataPath} in {string.Join(" and ", starts)} and every folder above them (the data lives in ../shared/data beside the repository; see its README); pass --data PATH/input.txt");
    }

    /// <summary>Runs the comparison and prints its table.</summary>
    public static int Run(BenchOptions o)
    {
        var cfg = GptConfig.Preset(o.Preset);
        if (cfg.VocabSize < ByteTokenizer.Instance.VocabSize)
            throw new ArgumentException($"--preset {o.Preset} has a vocabulary of {cfg.VocabSize}; the comparison trains on bytes and needs at least {ByteTokenizer.Instance.VocabSize} (a byte-* preset)");
        if (o.TrainSeq > cfg.MaxSeqLen) throw new ArgumentException($"--train-seq {o.TrainSeq} is longer than {o.Preset}'s context of {cfg.MaxSeqLen}");
        string path = LocateData(o.Data);
        int[] tokens = ByteTokenizer.Instance.Encode(StrictUtf8.ReadAllText(path));
        int held = tokens.Length / 10;
        int[] train = tokens[..^held], eval = tokens[^held..];
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]bench --optimizers[/] {o.Preset} ({GptParameters.Count(GptParameters.Table(cfg)):N0} parameters), {o.TrainSteps} steps of batch {o.TrainBatch} × seq {o.TrainSeq} on {path} ({train.Length:N0} training bytes, last {held:N0} held out), {backend.DeviceDescription}");

        var table = new Table().AddColumns("optimizer", "lr", "final train loss", "eval loss", "median ms/step", "median update ms", "skipped steps");
        foreach (var (kind, lr, groups) in Rules)
        {
            var sft = new SftOptions
            {
                Model = o.Preset, Batch = o.TrainBatch, SeqLen = o.TrainSeq, Steps = o.TrainSteps, Lr = lr, Warmup = o.TrainSteps / 10,
                EvalEvery = 0, EvalBatches = EvalBatches, CheckpointEvery = 0, Seed = o.Seed, Optimizer = kind, ParamGroup = groups,
                Device = o.Device, Threads = o.Threads,
            }.Validate();
            using var model = new GptModel(backend, cfg);
            model.InitializeWeights(o.Seed);
            var trainSource = new PackedStreamBatcher(train, sft.Batch, sft.SeqLen, cfg.VocabSize, sft.Seed);
            var evalSource = new PackedStreamBatcher(eval, sft.Batch, sft.SeqLen, cfg.VocabSize, sft.Seed, shuffle: false);
            using var trainer = new SftTrainer(model, trainSource, evalSource, sft);
            trainer.Optimizer.TimeUpdates = true;
            var stepMs = new List<double>();
            var updateMs = new List<double>();
            var losses = new List<double>();
            double evalLoss = double.NaN;
            int tokensPerStep = sft.Batch * sft.SeqLen;
            trainer.Run(CancellationToken.None, step =>
            {
                stepMs.Add(1000.0 * tokensPerStep / step.TokensPerSecond);
                if (!step.Skipped) updateMs.Add(trainer.Optimizer.LastUpdateMilliseconds);
                losses.Add(step.Loss);
                if (step.EvalLoss is double e) evalLoss = e;
            }, _ => { });
            double trainLoss = losses.Skip(Math.Max(0, losses.Count - LastSteps)).Average();
            table.AddRow(kind.ToString(), lr.ToString("G3", System.Globalization.CultureInfo.InvariantCulture), $"{trainLoss:F3}", $"{evalLoss:F3}",
                $"{StepBenchmarkResult.Median(stepMs):F1}", updateMs.Count > 0 ? $"{StepBenchmarkResult.Median(updateMs):F2}" : "-", $"{trainer.StepsSkipped}");
            AnsiConsole.MarkupLineInterpolated($"  {kind}: done");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("final train loss: mean of the last 10 steps' batch losses; eval loss: 8 held-out batches after the last step (nats/byte); warmup 10% of the steps, then cosine to 10% of the rate.");
        return 0;
    }
}
