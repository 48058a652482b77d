namespace RlhfCore.Optim;

/// <summary>The update rules a parameter group can use.</summary>
public enum OptimizerKind
{
    /// <summary>AdamW (Loshchilov &amp; Hutter 2019): decoupled weight decay, bias-corrected moments.</summary>
    AdamW,
    /// <summary>SGD with momentum, heavy-ball or Nesterov (torch.optim.SGD, dampening 0; L2 decay added to the gradient).</summary>
    Sgd,
    /// <summary>Lion (Chen et al. 2023): the sign of an interpolated momentum, decoupled weight decay.</summary>
    Lion,
    /// <summary>
    /// Muon (Keller Jordan 2024, as modded-nanogpt) for 2-D hidden weights (<c>h.*</c>): Nesterov momentum, then
    /// Newton–Schulz orthogonalization; as the default rule, every other tensor (embeddings, heads, 1-D) takes AdamW.
    /// </summary>
    Muon,
    /// <summary>
    /// Adafactor (Shazeer &amp; Stern 2018, as Hugging Face's implementation): a factored second moment (row and column
    /// running averages) for 2-D weights, a full one for 1-D tensors, update clipping, optional first moment; see <see cref="AdafactorOptions"/>.
    /// </summary>
    Adafactor,
}
