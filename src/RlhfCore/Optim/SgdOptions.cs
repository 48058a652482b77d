namespace RlhfCore.Optim;

/// <summary>SGD hyperparameters.</summary>
/// <param name="Momentum">Momentum coefficient μ (0 = plain SGD); 0.9 is the usual choice with momentum.</param>
/// <param name="Nesterov">Nesterov momentum (step along g + μ·buf instead of buf).</param>
public sealed record SgdOptions(float Momentum = 0.9f, bool Nesterov = false)
{
    /// <summary>Throws naming the field when a value is out of range.</summary>
    public SgdOptions Validate()
    {
        if (!(Momentum >= 0 && Momentum < 1)) throw new ArgumentException($"sgd momentum must be in [0, 1), got {Momentum}");
        if (Nesterov && Momentum == 0) throw new ArgumentException("Nesterov SGD needs a momentum above 0");
        return this;
    }
}
