using RlhfCore.Model;

namespace RlhfCore.IO;

/// <summary>What a GPT-2 safetensors checkpoint holds, read from its header (and config.json beside it).</summary>
/// <param name="Config">The architecture, inferred from tensor shapes and the stored or HF config.</param>
/// <param name="Heads">The heads present in the file.</param>
/// <param name="Metadata">The file's <c>__metadata__</c> strings.</param>
public sealed record GptCheckpointInfo(GptConfig Config, ModelHeads Heads, IReadOnlyDictionary<string, string> Metadata);

/// <summary>What <see cref="Gpt2Checkpoint.Load"/> did besides filling the arena.</summary>
/// <param name="NotInFile">Head tensors of the arena that the file lacks; they were left untouched, for the caller to initialize.</param>
/// <param name="Ignored">File tensors not loaded: mask buffers, the tied <c>lm_head.weight</c> (verified equal to wte), heads the arena lacks.</param>
public sealed record GptLoadResult(IReadOnlyList<string> NotInFile, IReadOnlyList<string> Ignored);
