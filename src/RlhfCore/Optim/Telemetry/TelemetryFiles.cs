using System.Globalization;
using System.Text.Json;
using RlhfCore.Data;
using RlhfCore.IO;

namespace RlhfCore.Optim.Telemetry;

/// <summary>
/// Writes telemetry to a run folder: <c>telemetry.jsonl</c>, one line per tensor per recorded step with the fields of
/// <see cref="Fields"/> (absent values are <c>null</c>), flushed after each step; and, from <see cref="WriteHeatmaps"/>,
/// one <c>telemetry-FIELD.svg</c> heatmap (tensor × step) per statistic that some tensor has. A resumed run keeps the
/// lines of steps up to the one it resumes from and drops any later ones (written after the last checkpoint).
/// </summary>
public sealed class TelemetryFiles : ITelemetryObserver, IDisposable
{
    /// <summary>The per-tensor statistics, by their stable <c>telemetry.jsonl</c> field names, with heatmap titles.</summary>
    public static readonly IReadOnlyList<(string Field, string Title, Func<TensorTelemetry, double?> Value)> Fields =
    [
        ("grad_norm", "gradient L2 norm", t => t.GradNorm),
        ("param_norm", "parameter L2 norm", t => t.ParamNorm),
        ("update_norm", "update L2 norm", t => t.UpdateNorm),
        ("update_ratio", "update norm / parameter norm", t => t.UpdateRatio),
        ("momentum_abs_mean", "mean |momentum|", t => t.MomentumAbsMean),
        ("grad_momentum_cosine", "cosine(gradient, momentum)", t => t.GradMomentumCosine),
        ("v_mean", "AdamW mean v", t => t.VMean),
        ("v_max", "AdamW max v", t => t.VMax),
        ("v_below_eps2", "AdamW fraction of v below eps²", t => t.VBelowEps2),
        ("sign_agreement", "Lion sign agreement (step vs momentum)", t => t.SignAgreement),
        ("ortho_residual", "Muon orthogonalization residual ‖G − I‖_F/√K", t => t.OrthogonalityResidual),
    ];

    private readonly string _dir;
    private readonly FileStream _jsonl;
    private readonly List<TelemetryStep> _steps = [];

    /// <summary>The path of <c>telemetry.jsonl</c>.</summary>
    public string JsonlPath { get; }

    /// <summary>Opens <c>telemetry.jsonl</c> in <paramref name="directory"/>, keeping the steps ≤ <paramref name="resumeStep"/> of an earlier file (0: a fresh file).</summary>
    public TelemetryFiles(string directory, int resumeStep = 0)
    {
        _dir = directory;
        JsonlPath = Path.Combine(directory, "telemetry.jsonl");
        Directory.CreateDirectory(directory);
        if (resumeStep > 0 && File.Exists(JsonlPath)) _steps.AddRange(Read(JsonlPath).Where(s => s.Step <= resumeStep));
        AtomicFile.Write(JsonlPath, fs => { foreach (var s in _steps) foreach (var t in s.Tensors) fs.Write(Line(s.Step, t)); });
        _jsonl = new FileStream(JsonlPath, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    /// <inheritdoc/>
    public void OnStep(TelemetryStep step)
    {
        foreach (var t in step.Tensors) _jsonl.Write(Line(step.Step, t));
        _jsonl.Flush();
        _steps.Add(step);
    }

    /// <summary>The steps seen so far (carried from the earlier file, then recorded).</summary>
    public IReadOnlyList<TelemetryStep> Steps => _steps;

    /// <summary>Writes one heatmap per statistic some tensor has; returns their paths.</summary>
    public IReadOnlyList<string> WriteHeatmaps()
    {
        var paths = new List<string>();
        if (_steps.Count == 0) return paths;
        string[] columns = [.. _steps.Select(s => s.Step.ToString(CultureInfo.InvariantCulture))];
        foreach (var (field, title, value) in Fields)
        {
            var rows = _steps[0].Tensors.Select((t, i) => (t.Tensor, i)).Where(r => _steps.Any(s => value(s.Tensors[r.i]) != null)).ToList();
            if (rows.Count == 0) continue;
            string path = Path.Combine(_dir, $"telemetry-{field}.svg");
            SvgHeatmap.Write(path, $"{title} ({field})", [.. rows.Select(r => r.Tensor)], columns,
                [.. rows.Select(r => (IReadOnlyList<double?>)[.. _steps.Select(s => value(s.Tensors[r.i]))])], "optimizer step");
            paths.Add(path);
        }
        return paths;
    }

    private static byte[] Line(int step, TensorTelemetry t) => JsonLine.Build(w =>
    {
        w.WriteNumber("step", step);
        w.WriteString("tensor", t.Tensor);
        w.WriteString("optimizer", t.Optimizer.ToString().ToLowerInvariant());
        foreach (var (field, _, value) in Fields)
        {
            if (value(t) is double v && double.IsFinite(v)) w.WriteNumber(field, v);
            else w.WriteNull(field);
        }
    });

    /// <summary>Reads a <c>telemetry.jsonl</c> back into steps (errors name the file and line).</summary>
    public static IReadOnlyList<TelemetryStep> Read(string path)
    {
        var steps = new List<TelemetryStep>();
        var current = new List<TensorTelemetry>();
        int currentStep = -1, lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var o = doc.RootElement;
                int step = o.GetProperty("step").GetInt32();
                double? N(string f) => o.GetProperty(f).ValueKind == JsonValueKind.Null ? null : o.GetProperty(f).GetDouble();
                var t = new TensorTelemetry(o.GetProperty("tensor").GetString()!, Enum.Parse<OptimizerKind>(o.GetProperty("optimizer").GetString()!, ignoreCase: true),
                    N("grad_norm") ?? double.NaN, N("param_norm") ?? double.NaN, N("update_norm") ?? double.NaN, N("update_ratio"), N("momentum_abs_mean"),
                    N("grad_momentum_cosine"), N("v_mean"), N("v_max"), N("v_below_eps2"), N("sign_agreement"), N("ortho_residual"));
                if (step != currentStep && current.Count > 0)
                {
                    steps.Add(new TelemetryStep(currentStep, current));
                    current = [];
                }
                currentStep = step;
                current.Add(t);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
            {
                throw new DataFormatException(path, lineNo, null, $"not a telemetry line: {e.Message}", e);
            }
        }
        if (current.Count > 0) steps.Add(new TelemetryStep(currentStep, current));
        return steps;
    }

    /// <inheritdoc/>
    public void Dispose() => _jsonl.Dispose();
}
