using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Data.Tasks;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Reward;

/// <summary>The training and held-out feedback of a reward run, as text records.</summary>
/// <param name="Kind">The feedback layout.</param>
/// <param name="Train">Training records.</param>
/// <param name="Eval">Held-out records (possibly empty).</param>
/// <param name="Skipped">Messages for the records left out for bad content.</param>
public sealed record RewardData(FeedbackKind Kind, IReadOnlyList<FeedbackRecord> Train, IReadOnlyList<FeedbackRecord> Eval, IReadOnlyList<string> Skipped)
{
    /// <summary>Pairs the built-in arithmetic data generates.</summary>
    public const int ArithmeticPairs = 20000;

    /// <summary>
    /// Reads <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.Data"/> (a feedback JSONL, or <c>builtin:arithmetic</c>: correct sums
    /// preferred over wrong ones) and holds out <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.EvalData"/>, or a seeded random
    /// <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.EvalFraction"/> of the records.
    /// </summary>
    public static RewardData Load(RewardOptions o)
    {
        var kind = FeedbackReader.ParseKind(o.Kind);
        var set = Read(o.Data, kind, o.SkipInvalid, o.Seed, o.AllowEmptyCompletions, o.MaxLineBytes);
        var skipped = new List<string>(set.Skipped);
        IReadOnlyList<FeedbackRecord> train, eval;
        if (o.EvalData is { Length: > 0 })
        {
            var evalSet = Read(o.EvalData, kind, o.SkipInvalid, o.Seed + 1, o.AllowEmptyCompletions, o.MaxLineBytes);
            if (RewardLosses.For(evalSet.Kind) != RewardLosses.For(set.Kind))
                throw new ArgumentException($"{o.EvalData} holds {evalSet.Kind} feedback but {o.Data} holds {set.Kind}");
            skipped.AddRange(evalSet.Skipped);
            train = set.Records;
            eval = evalSet.Records;
        }
        else
        {
            // A seeded random subset: feedback files are often sorted (by prompt, by source), so the tail is no fair sample.
            (train, eval) = HeldOutSplit.Random(set.Records, o.EvalFraction, o.Seed ^ 0xE7A1);
        }
        if (train.Count == 0) throw new ArgumentException($"{o.Data}: no training feedback left");
        return new RewardData(set.Kind, train, eval, skipped);
    }

    private static FeedbackSet Read(string data, FeedbackKind? kind, bool skipInvalid, ulong seed, bool allowEmpty, int maxLineBytes)
    {
        if (data == "builtin:arithmetic")
            return new FeedbackSet(FeedbackKind.Pairs, ArithmeticPreferences.Generate(new ArithmeticTask(), ArithmeticPairs, seed ^ 0xA217), []);
        if (data.StartsWith("builtin:", StringComparison.Ordinal))
            throw new ArgumentException($"unknown built-in feedback '{data}' (builtin:arithmetic)");
        if (!File.Exists(data)) throw new FileNotFoundException($"feedback data not found: {data}", data);
        return FeedbackReader.Read(data, kind, skipInvalid, allowEmpty, maxLineBytes);
    }
}
