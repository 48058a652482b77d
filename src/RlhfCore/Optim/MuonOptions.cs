namespace RlhfCore.Optim;

/// <summary>Muon hyperparameters: modded-nanogpt's momentum 0.95 with Nesterov.</summary>
/// <param name="Momentum">Momentum μ: buf = μ·buf + (1 − μ)·g, and the orthogonalized step is (1 − μ)·g + μ·buf.</param>
public sealed record MuonOptions(float Momentum = 0.95f)
{
    /// <summary>Throws naming the field when a value is out of range.</summary>
    public MuonOptions Validate()
    {
        if (!(Momentum >= 0 && Momentum < 1)) throw new ArgumentException($"muon momentum must be in [0, 1), got {Momentum}");
        return this;
    }
}
