namespace RlhfCore.Training.Core;

/// <summary>
/// The upper bounds shared by several options records, each with the reason it is where it is. They are
/// far above any real run and exist so that a typo (an extra digit, a missing minus sign) fails at once
/// with a message naming the flag, instead of overflowing, allocating without end or running for ever.
/// </summary>
public static class Limits
{
    /// <summary>Rows (or pairs, prompts) per micro-batch: 2^16, above any batch that fits: GPT-2's logits for
    /// 65,536 rows of a single token would already hold 3.3 billion elements, more than one tensor's 2^31 − 1.</summary>
    public const double MaxBatch = 65536;

    /// <summary>Tokens per row: 2^16, 64× GPT-2's context; the model's own context is checked later.</summary>
    public const double MaxSeqLen = 65536;

    /// <summary>Optimizer (or rollout) steps: 10^8, about three years at one step a second.</summary>
    public const double MaxSteps = 1e8;

    /// <summary>Micro-batches per optimizer step: 4096. The effective batch is already batch × this;
    /// with 2^31 no step finished in ten minutes.</summary>
    public const double MaxGradAccum = 4096;

    /// <summary>CPU threads per logical core: 4. More threads than cores only adds switching; 10,000 threads
    /// ran 100× slower.</summary>
    public const double ThreadsPerCore = 4;

    /// <summary>Peak learning rate: 1. AdamW moves every weight by about the learning rate each step, and
    /// weights start near 0.02, so above 1 every step overwrites them (1e30 skipped 19 of 20 steps).</summary>
    public const double MaxLr = 1;

    /// <summary>A count that is only a number of records or prompts: 10^7.</summary>
    public const double MaxCount = 1e7;

    /// <summary>A loss coefficient or penalty: 1000, far above the 0.01–1 used in practice.</summary>
    public const double MaxCoefficient = 1000;

    /// <summary>A clip value or threshold where 0 means off: 10^6; above it the clip never binds.</summary>
    public const double MaxThreshold = 1e6;

    /// <summary>Why the thread count is bounded, shown in the error.</summary>
    public const string ThreadsWhy = "more threads than 4 per core only adds switching; 0 uses every core";

    /// <summary>Why the learning rate is bounded, shown in the error.</summary>
    public const string LrWhy = "AdamW moves each weight by about the learning rate per step, and weights start near 0.02";
}
