namespace RlhfCore.Training;

/// <summary>
/// One <c>[B, T]</c> batch on the host, ready to upload: tokens, next-token targets (−1 = no loss),
/// positions (counting real tokens only), the key mask (1 real, 0 padding) and a per-token loss mask.
/// Allocated once and refilled every step.
/// </summary>
public sealed class TokenBatch
{
    /// <summary>Rows.</summary>
    public int B { get; }
    /// <summary>Sequence length.</summary>
    public int T { get; }
    /// <summary>[B·T] input token ids.</summary>
    public int[] Tokens { get; }
    /// <summary>[B·T] next-token targets; −1 where no loss is taken.</summary>
    public int[] Targets { get; }
    /// <summary>[B·T] position ids.</summary>
    public int[] Positions { get; }
    /// <summary>[B·T] 1 for real tokens, 0 for padding.</summary>
    public int[] KeyMask { get; }
    /// <summary>[B·T] 1 where the target counts toward the loss (targets ≥ 0), else 0.</summary>
    public float[] LossMask { get; }

    /// <summary>An empty batch of shape [B, T].</summary>
    public TokenBatch(int B, int T)
    {
        this.B = B;
        this.T = T;
        Tokens = new int[B * T];
        Targets = new int[B * T];
        Positions = new int[B * T];
        KeyMask = new int[B * T];
        LossMask = new float[B * T];
    }

    /// <summary>Number of positions whose loss counts.</summary>
    public int CountedTokens()
    {
        int n = 0;
        foreach (float m in LossMask) if (m != 0) n++;
        return n;
    }
}

/// <summary>An endless, deterministic stream of batches whose position can be saved and restored.</summary>
public interface ITokenBatchSource
{
    /// <summary>Fills <paramref name="batch"/> with the next batch and advances.</summary>
    void NextBatch(TokenBatch batch);

    /// <summary>Where the stream stands, as plain numbers a checkpoint can store.</summary>
    long[] Cursor { get; set; }
}
