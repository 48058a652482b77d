namespace RlhfCore.Training.Dpo;

/// <summary>
/// A host batch of preference pairs laid out for one forward pass, as TRL concatenates them: with P pairs,
/// rows <c>0..P−1</c> hold the chosen sequences and rows <c>P..2P−1</c> the rejected ones, each
/// <c>[prompt | completion]</c> right-padded to T inputs. Targets are the next token where that token belongs
/// to the completion (its end-of-text included) and −1 elsewhere, so only completion tokens are scored.
/// Allocated once for a capacity and refilled every step.
/// </summary>
public sealed class DpoBatch
{
    /// <summary>Pairs this batch can hold.</summary>
    public int Capacity { get; }
    /// <summary>Inputs per row.</summary>
    public int SeqLen { get; }
    /// <summary>Pairs in the current fill.</summary>
    public int Pairs { get; private set; }
    /// <summary>Rows in the current fill (2 · <see cref="Pairs"/>).</summary>
    public int Rows => 2 * Pairs;

    /// <summary>[rows · T] token ids (padding holds token 0, hidden by the key mask).</summary>
    public int[] Tokens { get; }
    /// <summary>[rows · T] positions (real tokens count from 0; padding 0).</summary>
    public int[] Positions { get; }
    /// <summary>[rows · T] 1 for real tokens, 0 for padding.</summary>
    public int[] KeyMask { get; }
    /// <summary>[rows · T] the completion token predicted at each position, −1 where none is.</summary>
    public int[] Targets { get; }
    /// <summary>[rows] completion tokens scored in each row.</summary>
    public int[] CompletionTokens { get; }
    /// <summary>[pairs] KTO's label of each example (true for preference pairs).</summary>
    public bool[] Desirable { get; }
    /// <summary>[rows] flat index <c>row·T + t</c> of each row's last real input (for models with a reward head).</summary>
    public int[] LastRows { get; }

    /// <summary>Buffers for up to <paramref name="pairs"/> pairs of <paramref name="seqLen"/> inputs per row.</summary>
    public DpoBatch(int pairs, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pairs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        Capacity = pairs;
        SeqLen = seqLen;
        int n = 2 * pairs * seqLen;
        Tokens = new int[n];
        Positions = new int[n];
        KeyMask = new int[n];
        Targets = new int[n];
        CompletionTokens = new int[2 * pairs];
        Desirable = new bool[pairs];
        LastRows = new int[2 * pairs];
    }

    /// <summary>Fills the batch with <paramref name="examples"/> (at most <see cref="Capacity"/>).</summary>
    public void Fill(IReadOnlyList<DpoExample> examples)
    {
        if (examples.Count < 1 || examples.Count > Capacity)
            throw new ArgumentException($"{examples.Count} pairs; this batch holds 1 to {Capacity}");
        Pairs = examples.Count;
        for (int i = 0; i < Pairs; i++)
        {
            WriteRow(i, examples[i], examples[i].Chosen);
            Desirable[i] = examples[i].Desirable ?? true;
            WriteRow(Pairs + i, examples[i], examples[i].Rejected);
        }
    }

    /// <summary>
    /// Fills the batch for KTO with <paramref name="examples"/> (at most <see cref="Capacity"/>): rows [0, n) their
    /// completions, rows [n, 2n) their KL pairs, each prompt with the next example's completion (the last with the first's,
    /// TRL's shifted KL batch) cut to fit the row (TRL truncates it too; the estimate needs no end-of-text). A single
    /// example is its own KL pair. Writes in place: nothing is allocated.
    /// </summary>
    public void FillWithKlPairs(IReadOnlyList<DpoExample> examples)
    {
        if (examples.Count < 1 || examples.Count > Capacity)
            throw new ArgumentException($"{examples.Count} examples; this batch holds 1 to {Capacity}");
        Pairs = examples.Count;
        for (int i = 0; i < Pairs; i++)
        {
            var e = examples[i];
            var other = examples[(i + 1) % Pairs].Chosen;
            WriteRow(i, e, e.Chosen);
            Desirable[i] = e.Desirable ?? true;
            WriteRow(Pairs + i, e, other.AsSpan(0, Math.Min(other.Length, SeqLen - e.Prompt.Length + 1)));
        }
    }

    private void WriteRow(int row, DpoExample e, ReadOnlySpan<int> completion)
    {
        int T = SeqLen, inputs = e.Prompt.Length + completion.Length - 1, P = e.Prompt.Length;
        if (inputs > T)
            throw new ArgumentException($"{e.FilePath} line {e.Line}: {inputs} inputs do not fit a row of {T}");
        int o = row * T;
        for (int t = 0; t < T; t++)
        {
            bool real = t < inputs;
            Tokens[o + t] = real ? Token(e, completion, t) : 0;
            Positions[o + t] = real ? t : 0;
            KeyMask[o + t] = real ? 1 : 0;
            // Position t predicts sequence token t+1, a completion token when t+1 ≥ P.
            Targets[o + t] = real && t + 1 >= P ? completion[t + 1 - P] : -1;
        }
        CompletionTokens[row] = completion.Length;
        LastRows[row] = o + inputs - 1;
    }

    private static int Token(DpoExample e, ReadOnlySpan<int> completion, int i) => i < e.Prompt.Length ? e.Prompt[i] : completion[i - e.Prompt.Length];
}
