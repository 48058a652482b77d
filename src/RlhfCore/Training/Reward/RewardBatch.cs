using RlhfCore.Backends;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Training.Reward;

/// <summary>
/// A host batch for a reward model: up to <see cref="MaxRows"/> right-padded sequences of
/// <see cref="SeqLen"/> positions (positions count real tokens, key mask 1/0, the score read at each row's
/// last real token), grouped as the loss reads them — all members of a pair or ranking in consecutive rows,
/// best first. Allocated once and refilled; rows may be fewer than the capacity.
/// </summary>
public sealed class RewardBatch
{
    /// <summary>Row capacity.</summary>
    public int MaxRows { get; }
    /// <summary>Positions per row.</summary>
    public int SeqLen { get; }

    /// <summary>[MaxRows·SeqLen] token ids (0 at padding, which the key mask hides).</summary>
    public int[] Tokens { get; }
    /// <summary>[MaxRows·SeqLen] positions.</summary>
    public int[] Positions { get; }
    /// <summary>[MaxRows·SeqLen] 1 for real tokens, 0 for padding.</summary>
    public int[] KeyMask { get; }
    /// <summary>[MaxRows] flat index b·T + last real t of each row.</summary>
    public int[] LastRows { get; }
    /// <summary>[MaxRows] first row of each group.</summary>
    public int[] GroupStart { get; }
    /// <summary>[MaxRows] rows in each group.</summary>
    public int[] GroupSize { get; }
    /// <summary>[MaxRows] each group's rating or label (0 for pairs and rankings).</summary>
    public double[] Targets { get; }
    /// <summary>[MaxRows] each group's margin (pairs).</summary>
    public double[] Margins { get; }

    /// <summary>Rows filled.</summary>
    public int Rows { get; private set; }
    /// <summary>Groups filled.</summary>
    public int Groups { get; private set; }

    /// <summary>A batch of at most <paramref name="maxRows"/> sequences of <paramref name="seqLen"/> positions.</summary>
    public RewardBatch(int maxRows, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        MaxRows = maxRows;
        SeqLen = seqLen;
        Tokens = new int[maxRows * seqLen];
        Positions = new int[maxRows * seqLen];
        KeyMask = new int[maxRows * seqLen];
        LastRows = new int[maxRows];
        GroupStart = new int[maxRows];
        GroupSize = new int[maxRows];
        Targets = new double[maxRows];
        Margins = new double[maxRows];
    }

    /// <summary>Empties the batch.</summary>
    public void Clear() => Rows = Groups = 0;

    /// <summary>True when <paramref name="example"/>'s sequences still fit.</summary>
    public bool Fits(RewardExample example) => Rows + example.Sequences.Length <= MaxRows;

    /// <summary>Appends one example as a group of consecutive rows.</summary>
    public void Add(RewardExample example)
    {
        if (!Fits(example)) throw new InvalidOperationException($"{example.Source}: {example.Sequences.Length} sequences do not fit the batch's remaining {MaxRows - Rows} rows");
        GroupStart[Groups] = Rows;
        GroupSize[Groups] = example.Sequences.Length;
        Targets[Groups] = example.Target;
        Margins[Groups] = example.Margin;
        Groups++;
        foreach (var seq in example.Sequences) AddRow(seq);
    }

    /// <summary>Appends one sequence as its own row (scoring only: it belongs to no group).</summary>
    public void AddRow(ReadOnlySpan<int> sequence)
    {
        if (Rows == MaxRows) throw new InvalidOperationException($"the batch is full ({MaxRows} rows)");
        if (sequence.Length < 1 || sequence.Length > SeqLen)
            throw new ArgumentException($"a sequence of {sequence.Length} tokens does not fit rows of {SeqLen} positions (it needs at least one token)");
        int offset = Rows * SeqLen;
        for (int t = 0; t < SeqLen; t++)
        {
            bool real = t < sequence.Length;
            Tokens[offset + t] = real ? sequence[t] : 0;
            Positions[offset + t] = real ? t : 0;
            KeyMask[offset + t] = real ? 1 : 0;
        }
        LastRows[Rows] = offset + sequence.Length - 1;
        Rows++;
    }

    /// <summary>Uploads the filled rows into <paramref name="acts"/>' inputs.</summary>
    public void Upload(IBackend backend, GptActivations acts)
    {
        int n = Rows * SeqLen;
        backend.Upload<int>(acts.Tokens.Head(n), Tokens.AsSpan(0, n));
        backend.Upload<int>(acts.Positions.Head(n), Positions.AsSpan(0, n));
        backend.Upload<int>(acts.KeyMask.Head(n), KeyMask.AsSpan(0, n));
        backend.Upload<int>(acts.LastRows.Head(Rows), LastRows.AsSpan(0, Rows));
    }
}
