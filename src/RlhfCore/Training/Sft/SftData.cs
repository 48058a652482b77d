using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Sft;

/// <summary>The training and held-out batch streams of an SFT run.</summary>
/// <param name="Train">Shuffled, endless training batches.</param>
/// <param name="Eval">Held-out batches in a fixed order, or null when there is nothing held out.</param>
/// <param name="TrainExamples">Number of training examples (or packed windows).</param>
public sealed record SftData(ISftBatchSource Train, ISftBatchSource? Eval, int TrainExamples)
{
    /// <summary>Demonstrations a built-in task generates (<c>builtin:arithmetic</c>, <c>builtin:reviews</c>).</summary>
    public const int BuiltinExamples = 20000;

    /// <summary>
    /// Builds the streams for <paramref name="o"/>: <c>builtin:TASK</c> generates a built-in task's demonstrations;
    /// a <c>.jsonl</c> (or <c>.jsonl.gz</c>) file is read as TRL-style SFT data — rows of prompt/completion
    /// pairs are padded one example per row, plain <c>{"text"}</c> documents are packed into a token
    /// stream; an llm.c token shard (<c>.bin</c>) is already a token stream; any other file is plain text, packed.
    /// </summary>
    /// <param name="o">The run's options (data paths, batch shape, held-out split, seed).</param>
    /// <param name="tokenizer">The tokenizer for text data; may be null for a token shard, which is already ids.</param>
    /// <param name="contextLength">The model's context length.</param>
    /// <param name="vocabSize">The model's vocabulary: every id must lie below it.</param>
    public static SftData Build(SftOptions o, ITokenizer? tokenizer, int contextLength, int vocabSize)
    {
        if (IsTokenShard(o.Data)) return FromTokenShards(o, vocabSize);
        return FromRecords(LoadRecords(o.Data, o.Seed, o.MaxLineBytes), o,
            tokenizer ?? throw new ArgumentNullException(nameof(tokenizer), $"{o.Data} is text: it needs a tokenizer"), contextLength, vocabSize);
    }

    /// <summary>
    /// Streams over records already in memory (a pipeline's demonstrations): held-out split by
    /// <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.EvalFraction"/> unless <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.EvalData"/> names a file.
    /// </summary>
    public static SftData FromRecords(List<SftRecord> records, SftOptions o, ITokenizer tokenizer, int contextLength, int vocabSize)
    {
        List<SftRecord> train, eval;
        if (o.EvalData is { Length: > 0 })
        {
            train = records;
            eval = LoadRecords(o.EvalData, o.Seed + 1, o.MaxLineBytes);
        }
        else
        {
            (train, eval) = HeldOutSplit.Tail(records, o.EvalFraction);
        }
        if (train.Count == 0) throw new ArgumentException($"{o.Data}: no training examples");
        bool packed = train.All(r => r.IsPlainText);
        var trainSource = MakeSource(train, packed, o, tokenizer, contextLength, vocabSize, shuffle: true, o.Seed, out int count);
        var evalSource = eval.Count == 0 ? null : MakeSource(eval, packed, o, tokenizer, contextLength, vocabSize, shuffle: false, o.Seed, out _);
        return new SftData(trainSource, evalSource, count);
    }

    /// <summary>True when <paramref name="path"/> names an llm.c token shard (<c>.bin</c>), which trains without a tokenizer.</summary>
    public static bool IsTokenShard(string path) => path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// llm.c token shards, already tokenized: the training shard is packed as is; evaluation uses
    /// <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.EvalData"/> (another shard) or the last <see cref="RlhfCore.Training.Core.DatasetTrainerOptions.EvalFraction"/> of the tokens.
    /// </summary>
    private static SftData FromTokenShards(SftOptions o, int vocabSize)
    {
        int[] tokens = IO.LlmcTokenShard.Read(o.Data);
        int[] train = tokens, eval = [];
        if (o.EvalData is { Length: > 0 }) eval = IO.LlmcTokenShard.Read(o.EvalData);
        else if (o.EvalFraction > 0)
        {
            int held = Math.Max(o.SeqLen + 1, (int)(tokens.Length * o.EvalFraction));
            if (held < tokens.Length - o.SeqLen)
            {
                train = tokens[..^held];
                eval = tokens[^held..];
            }
        }
        var trainSource = new PackedStreamBatcher(train, o.Batch, o.SeqLen, vocabSize, o.Seed);
        var evalSource = eval.Length > o.SeqLen ? new PackedStreamBatcher(eval, o.Batch, o.SeqLen, vocabSize, o.Seed, shuffle: false) : null;
        return new SftData(trainSource, evalSource, trainSource.WindowCount);
    }

    private static List<SftRecord> LoadRecords(string data, ulong seed, int maxLineBytes)
    {
        if (data.StartsWith("builtin:", StringComparison.Ordinal))
        {
            // A built-in task's demonstrations, generated from the seed.
            var task = GoldTasks.Create(data["builtin:".Length..]);
            var rng = new Rng(seed ^ 0xA217);
            var list = new List<SftRecord>(BuiltinExamples);
            for (int i = 0; i < BuiltinExamples; i++)
            {
                var d = task.SampleDemonstration(rng);
                list.Add(new SftRecord(d.Prompt, d.Completion, IsPlainText: false, data, i + 1));
            }
            return list;
        }
        if (!File.Exists(data)) throw new FileNotFoundException($"training data not found: {data}", data);
        if (data.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || data.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase))
            return SftDataset.Load(data, maxLineBytes);
        return [new SftRecord("", StrictUtf8.ReadAllText(data), IsPlainText: true, data, 1)];
    }

    private static ISftBatchSource MakeSource(List<SftRecord> records, bool packed, SftOptions o, ITokenizer tokenizer,
        int contextLength, int vocabSize, bool shuffle, ulong seed, out int count)
    {
        // Packed text may be any length (it is cut into windows); padded rows must fit the batch length.
        var overlong = packed ? OverlongPolicy.Truncate : o.Overlong;
        int limit = packed ? int.MaxValue - 1 : o.SeqLen;
        var examples = records.Select(r => SftExample.FromRecord(r, tokenizer, limit, overlong, vocabSize)).ToList();
        if (packed)
        {
            var stream = PackedStreamBatcher.BuildStream(examples);
            var batcher = new PackedStreamBatcher(stream, o.Batch, o.SeqLen, vocabSize, seed, shuffle);
            count = batcher.WindowCount;
            return batcher;
        }
        count = examples.Count;
        int pad = tokenizer.EndOfText;
        return new SftRowBatcher(examples, o.Batch, o.SeqLen, seed, pad, shuffle);
    }
}
