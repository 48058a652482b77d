namespace RlhfCore.Optim;

/// <summary>AdamW hyperparameters (PyTorch's defaults except weight decay, which is GPT-2 practice).</summary>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Eps">Denominator epsilon.</param>
/// <param name="WeightDecay">Decoupled weight decay, applied to 2-D weights only.</param>
public sealed record AdamWOptions(float Beta1 = 0.9f, float Beta2 = 0.95f, float Eps = 1e-8f, float WeightDecay = 0.1f)
{
    /// <summary>Throws naming the field when a value is out of range.</summary>
    public AdamWOptions Validate()
    {
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentException($"beta1 must be in [0, 1), got {Beta1}");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException($"beta2 must be in [0, 1), got {Beta2}");
        if (!(Eps > 0)) throw new ArgumentException($"eps must be positive, got {Eps}");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"weight decay must be ≥ 0, got {WeightDecay}");
        return this;
    }
}
