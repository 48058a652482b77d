namespace RlhfCore.Optim;

/// <summary>Lion hyperparameters: the paper's defaults (Chen et al. 2023, β1 = 0.9, β2 = 0.99).</summary>
/// <param name="Beta1">Interpolation between momentum and gradient whose sign is the update.</param>
/// <param name="Beta2">Momentum decay.</param>
public sealed record LionOptions(float Beta1 = 0.9f, float Beta2 = 0.99f)
{
    /// <summary>Throws naming the field when a value is out of range.</summary>
    public LionOptions Validate()
    {
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentException($"lion beta1 must be in [0, 1), got {Beta1}");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException($"lion beta2 must be in [0, 1), got {Beta2}");
        return this;
    }
}
