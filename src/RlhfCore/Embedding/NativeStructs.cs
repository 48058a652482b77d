using System.Runtime.InteropServices;

namespace RlhfCore.Embedding;

// The structs of native/include/rlhfcore.h, field for field. rlhf_init passes the C compiler's sizes and
// RuntimeExports.Initialize compares them with these, so a header and an assembly that disagree fail at start.

/// <summary><c>rlhf_model_config</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeModelConfig
{
    public int VocabSize, MaxSeqLen, NumLayers, NumHeads, Channels;
}

/// <summary><c>rlhf_sampling</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeSampling
{
    public float Temperature;
    public int TopK;
    public float TopP;
    public int MaxNewTokens;
    public int EosToken;
    public ulong Seed;
}

/// <summary><c>rlhf_dpo_metrics</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeDpoMetrics
{
    public double Loss, RewardsChosen, RewardsRejected, RewardsAccuracy, RewardsMargin, LogpsChosen, LogpsRejected;
}

/// <summary><c>rlhf_tensor_info</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeTensorInfo
{
    /// <summary>The largest rank a tensor of the table has (RLHF_MAX_RANK).</summary>
    public const int MaxRank = 4;
    public nint Name;
    public long Offset;
    public long Elements;
    public int Rank;
    public fixed int Shape[MaxRank];
}

/// <summary><c>rlhf_buffers</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeBuffers
{
    public nint Parameters;
    public nint Gradients;
    public long Bytes;
    public int OnDevice;
}
