using System.ComponentModel;

namespace RlhfCore.Feedback.Annotation;

/// <summary>
/// How the simulated annotator turns gold rewards into preferences. With everything at its default it
/// is noiseless: it always prefers the completion with the higher gold reward.
/// </summary>
public sealed record AnnotatorOptions
{
    /// <summary>Bradley–Terry temperature: P(A over B) = sigmoid((gold_A - gold_B)/temperature + bias). 0 = always the higher gold reward.</summary>
    [Description("Bradley–Terry temperature: P(A over B) = sigmoid((gold_A - gold_B)/temperature + bias). 0 = always the higher gold reward.")]
    public double Temperature { get; init; }
    /// <summary>Probability that a judgment is flipped after it is drawn (label noise independent of the rewards).</summary>
    [Description("Probability that a judgment is flipped after it is drawn (label noise independent of the rewards).")]
    public double FlipProbability { get; init; }
    /// <summary>Systematic length bias: added to the logit per character that A is longer than B (positive = prefers longer).</summary>
    [Description("Systematic length bias: added to the logit per character that A is longer than B (positive = prefers longer).")]
    public double LengthBias { get; init; }
    /// <summary>Judge a tie when |gold_A - gold_B| is below this margin (0 = never, except identical completions).</summary>
    [Description("Judge a tie when |gold_A - gold_B| is below this margin (0 = never, except identical completions).")]
    public double TieMargin { get; init; }
    /// <summary>Random seed of the annotator.</summary>
    [Description("Random seed of the annotator.")]
    public ulong Seed { get; init; } = 1;

    /// <summary>This record, after checking every value is in range.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names the option.</exception>
    public AnnotatorOptions Validate()
    {
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new ArgumentException($"annotator temperature must be finite and >= 0, got {Temperature}");
        if (!(FlipProbability is >= 0 and <= 1)) throw new ArgumentException($"annotator flip probability must be in [0, 1], got {FlipProbability}");
        if (!double.IsFinite(LengthBias)) throw new ArgumentException($"annotator length bias must be finite, got {LengthBias}");
        if (!(TieMargin >= 0) || double.IsInfinity(TieMargin)) throw new ArgumentException($"annotator tie margin must be finite and >= 0, got {TieMargin}");
        return this;
    }
}
