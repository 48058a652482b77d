namespace RlhfCore.Training.Ilql;

/// <summary>
/// A host batch of ILQL rows laid out as the loss reads them: row b's position t is token row b·T + t; the inputs are
/// <c>[prompt | completion | end-of-text]</c> minus the last token, right-padded. Position t is an action row when token t + 1
/// belongs to the completion (its end-of-text included): its action is that token, its mask 1, and the last action row of a
/// sequence carries the reward. Other rows have action 0 (a valid id), mask 0 and reward 0. Allocated once and refilled.
/// </summary>
public sealed class IlqlBatch
{
    /// <summary>Rows this batch holds.</summary>
    public int Rows { get; }
    /// <summary>Inputs per row.</summary>
    public int SeqLen { get; }
    /// <summary>[rows · T] token ids (padding 0, hidden by the key mask).</summary>
    public int[] Tokens { get; }
    /// <summary>[rows · T] positions.</summary>
    public int[] Positions { get; }
    /// <summary>[rows · T] 1 for real tokens.</summary>
    public int[] KeyMask { get; }
    /// <summary>[rows · T] the action (next token) at each row.</summary>
    public int[] Actions { get; }
    /// <summary>[rows · T] 1 on action rows.</summary>
    public float[] Mask { get; }
    /// <summary>[rows · T] the reward, at each sequence's last action row.</summary>
    public float[] Rewards { get; }

    /// <summary>Buffers for <paramref name="rows"/> rows of <paramref name="seqLen"/> inputs.</summary>
    public IlqlBatch(int rows, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        Rows = rows;
        SeqLen = seqLen;
        int n = rows * seqLen;
        Tokens = new int[n];
        Positions = new int[n];
        KeyMask = new int[n];
        Actions = new int[n];
        Mask = new float[n];
        Rewards = new float[n];
    }

    /// <summary>Writes <paramref name="s"/> into row <paramref name="row"/>.</summary>
    public void Write(int row, IlqlSequence s)
    {
        int T = SeqLen, inputs = s.Inputs, o = row * T;
        if (inputs > T) throw new ArgumentException($"{s.Where}: {inputs} inputs do not fit a row of {T}");
        for (int t = 0; t < T; t++)
        {
            bool real = t < inputs;
            bool action = real && t + 1 >= s.PromptLength;
            Tokens[o + t] = real ? s.Tokens[t] : 0;
            Positions[o + t] = real ? t : 0;
            KeyMask[o + t] = real ? 1 : 0;
            Actions[o + t] = action ? s.Tokens[t + 1] : 0;
            Mask[o + t] = action ? 1f : 0f;
            Rewards[o + t] = action && t == inputs - 1 ? s.Reward : 0f;
        }
    }
}
