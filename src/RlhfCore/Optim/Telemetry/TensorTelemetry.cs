namespace RlhfCore.Optim.Telemetry;

/// <summary>
/// What one optimizer step did to one parameter tensor. g is the gradient the update used (after the clip scale); Δ is
/// the step taken, previous − param. Values an optimizer does not have are null.
/// </summary>
/// <param name="Tensor">Hugging Face GPT-2 tensor name.</param>
/// <param name="Optimizer">The tensor's update rule.</param>
/// <param name="GradNorm">‖g‖₂.</param>
/// <param name="ParamNorm">‖param‖₂ after the step.</param>
/// <param name="UpdateNorm">‖Δ‖₂.</param>
/// <param name="UpdateRatio">‖Δ‖₂ / ‖param before the step‖₂ (null when that norm is 0).</param>
/// <param name="MomentumAbsMean">mean |m| of the momentum-like state after the step: Adam's m, SGD's or Muon's momentum buffer, Lion's m, Adafactor's m (β1 &gt; 0).</param>
/// <param name="GradMomentumCosine">cos(g, m) (null without momentum, or when either is 0).</param>
/// <param name="VMean">AdamW: mean v.</param>
/// <param name="VMax">AdamW: max v.</param>
/// <param name="VBelowEps2">AdamW: the fraction of v below ε² (where ε, not √v, sets the step size).</param>
/// <param name="SignAgreement">Lion: the fraction of elements where sign(Δ) = sign(m), i.e. the step follows the momentum's sign.</param>
/// <param name="OrthogonalityResidual">Muon: ‖G − I‖_F/√K of the Newton–Schulz output X, G its K×K Gram on the small side (XXᵀ or XᵀX, K = min(rows, cols)).</param>
public sealed record TensorTelemetry(string Tensor, OptimizerKind Optimizer, double GradNorm, double ParamNorm, double UpdateNorm, double? UpdateRatio,
    double? MomentumAbsMean, double? GradMomentumCosine, double? VMean, double? VMax, double? VBelowEps2, double? SignAgreement, double? OrthogonalityResidual);
