using RlhfCore.Tensors;

namespace RlhfCore.Model;

/// <summary>
/// A change of the next-token logits before sampling, from the trunk's final hidden states: ILQL's advantage-shifted decoding
/// (<see cref="Rl.Ilql.IlqlLogitsShaper"/>) is one. <see cref="GptGenerator.Generate"/> calls it once per step.
/// </summary>
public interface ILogitsShaper
{
    /// <summary>
    /// Rewrites <paramref name="logits"/> [B, V] in place, given <paramref name="hidden"/> [B, C], each row's last hidden state
    /// after the final LayerNorm (what the LM head read).
    /// </summary>
    void Shape(Tensor hidden, Tensor logits, int B);
}
