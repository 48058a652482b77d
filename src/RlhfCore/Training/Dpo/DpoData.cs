using System.Globalization;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.Feedback;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Dpo;

/// <summary>The tokenized training and held-out pairs of a DPO run.</summary>
/// <param name="Train">Training pairs.</param>
/// <param name="Eval">Held-out pairs (may be empty).</param>
public sealed record DpoData(IReadOnlyList<DpoExample> Train, IReadOnlyList<DpoExample> Eval)
{
    /// <summary>Pairs the built-in arithmetic preferences generate.</summary>
    public const int ArithmeticPairs = 4000;

    /// <summary>Loads and tokenizes <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.Data"/> (and the held-out data) for rows of <see cref="DpoOptions.SeqLen"/> inputs.</summary>
    /// <exception cref="DataFormatException">A pair is malformed or too long; the message names the file, line and field.</exception>
    public static DpoData Build(DpoOptions o, ITokenizer tokenizer, int vocabSize)
    {
        if (o.Loss == DpoLossKind.Kto) return BuildApprovals(o, tokenizer, vocabSize);
        var pairs = LoadPairs(o.Data, o.Seed, o.MaxLineBytes);
        List<PreferencePair> train, eval;
        if (o.EvalData is { Length: > 0 })
        {
            train = pairs;
            eval = LoadPairs(o.EvalData, o.Seed + 1, o.MaxLineBytes);
        }
        else
        {
            (train, eval) = HeldOutSplit.Tail(pairs, o.EvalFraction);
        }
        if (train.Count == 0) throw new ArgumentException($"{o.Data}: no training pairs");
        return new DpoData(Tokenize(train, tokenizer, o.SeqLen, vocabSize), Tokenize(eval, tokenizer, o.SeqLen, vocabSize));
    }

    /// <summary>
    /// KTO's data: approvals <c>{"prompt","completion","label"}</c> read by the feedback reader, or the built-in arithmetic
    /// pairs split into a desirable and an undesirable example each (the trainer checks that both kinds are there
    /// when their weights are above 0).
    /// </summary>
    private static DpoData BuildApprovals(DpoOptions o, ITokenizer tokenizer, int vocabSize)
    {
        var examples = LoadApprovals(o.Data, o.Seed, o.MaxLineBytes);
        List<LabeledCompletion> train, eval;
        if (o.EvalData is { Length: > 0 })
        {
            train = examples;
            eval = LoadApprovals(o.EvalData, o.Seed + 1, o.MaxLineBytes);
        }
        else
        {
            (train, eval) = HeldOutSplit.Tail(examples, o.EvalFraction);
        }
        if (train.Count == 0) throw new ArgumentException($"{o.Data}: no training examples");
        return new DpoData(Tokenize(train, tokenizer, o.SeqLen, vocabSize), Tokenize(eval, tokenizer, o.SeqLen, vocabSize));
    }

    private static List<LabeledCompletion> LoadApprovals(string data, ulong seed, int maxLineBytes)
    {
        if (data == "builtin:arithmetic") return Unpaired(ArithmeticPreferences(ArithmeticPairs, seed)).ToList();
        if (data.StartsWith("builtin:", StringComparison.Ordinal))
            throw new ArgumentException($"unknown built-in data '{data}' (builtin:arithmetic)");
        if (!File.Exists(data)) throw new FileNotFoundException($"approvals data not found: {data}", data);
        return FeedbackReader.Read(data, FeedbackKind.Approvals, maxLineBytes: maxLineBytes).Records.Cast<LabeledCompletion>().ToList();
    }

    /// <summary>
    /// KTO's unpaired examples from preference pairs: each pair's chosen completion is desirable and its rejected one
    /// undesirable (the built-in arithmetic pairs and the pipeline's use this).
    /// </summary>
    public static IEnumerable<LabeledCompletion> Unpaired(IEnumerable<PreferencePair> pairs) =>
        pairs.SelectMany(p => new[]
        {
            new LabeledCompletion(p.Prompt, p.Chosen, true) { FilePath = p.FilePath, Line = p.Line },
            new LabeledCompletion(p.Prompt, p.Rejected, false) { FilePath = p.FilePath, Line = p.Line },
        });

    /// <summary>Tokenizes in-memory approvals (the pipeline's KTO path).</summary>
    public static List<DpoExample> Tokenize(IEnumerable<LabeledCompletion> examples, ITokenizer tokenizer, int seqLen, int vocabSize) =>
        examples.Select(e => DpoExample.FromLabeled(e, tokenizer, seqLen, vocabSize)).ToList();

    /// <summary>Tokenizes in-memory pairs (the pipeline's path).</summary>
    public static List<DpoExample> Tokenize(IEnumerable<PreferencePair> pairs, ITokenizer tokenizer, int seqLen, int vocabSize) =>
        pairs.Select(p => DpoExample.FromPair(p, tokenizer, seqLen, vocabSize)).ToList();

    /// <summary>
    /// Synthetic preferences on the arithmetic task: the correct sum is chosen over a sum off by 1 to 3 (the
    /// kind of error the task's noisy demonstrations make), so DPO can sharpen an SFT policy's accuracy.
    /// </summary>
    public static List<PreferencePair> ArithmeticPreferences(int count, ulong seed, ArithmeticTask? task = null)
    {
        task ??= new ArithmeticTask();
        var rng = new Rng(seed ^ 0xD907);
        var pairs = new List<PreferencePair>(count);
        for (int i = 0; i < count; i++)
        {
            string prompt = task.SamplePrompt(rng);
            int answer = ArithmeticTask.Solve(prompt), delta = 1 + rng.NextInt(3);
            int wrong = rng.NextInt(2) == 0 || answer < delta ? answer + delta : answer - delta;
            pairs.Add(new PreferencePair(prompt, answer.ToString(CultureInfo.InvariantCulture), wrong.ToString(CultureInfo.InvariantCulture)) { FilePath = "builtin:arithmetic", Line = i + 1 });
        }
        return pairs;
    }

    private static List<PreferencePair> LoadPairs(string data, ulong seed, int maxLineBytes)
    {
        if (data == "builtin:arithmetic") return ArithmeticPreferences(ArithmeticPairs, seed);
        if (data.StartsWith("builtin:", StringComparison.Ordinal))
            throw new ArgumentException($"unknown built-in data '{data}' (builtin:arithmetic)");
        if (!File.Exists(data)) throw new FileNotFoundException($"preference data not found: {data}", data);
        return ReadPairs(data, maxLineBytes);
    }

    /// <summary>The pairs of a TRL explicit-prompt file, <c>{"prompt","chosen","rejected"}</c> per line (other keys ignored).</summary>
    /// <exception cref="DataFormatException">A line is malformed; the message names the file, line and field.</exception>
    public static List<PreferencePair> ReadPairs(string path, int maxLineBytes = JsonlReader.DefaultMaxLineBytes) =>
        // The reader lets empty completions through so that DPO's own check refuses them in its words (it accepts whitespace).
        FeedbackReader.Read(path, FeedbackKind.Pairs, allowEmptyCompletions: true, maxLineBytes: maxLineBytes).Records.Cast<PreferencePair>().Select(DpoExample.Validate).ToList();
}
