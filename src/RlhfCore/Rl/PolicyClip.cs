namespace RlhfCore.Rl;

/// <summary>
/// The ratio clips of the PPO-family policy loss, as verl's <c>compute_policy_loss</c> takes them:
/// the surrogate is clipped to [1 − <paramref name="Low"/>, 1 + <paramref name="High"/>] (DAPO's clip-higher
/// raises <paramref name="High"/> above <paramref name="Low"/>, e.g. 0.2 and 0.28; PPO has both at ε), and
/// for negative advantages the dual clip bounds the loss by −A·<paramref name="Dual"/> (Ye et al. 2020,
/// "Mastering Complex Control in MOBA Games"; verl's <c>clip_ratio_c</c>, 3 by default there; 0 = off here).
/// </summary>
/// <param name="Low">ε_low, in [0, 1).</param>
/// <param name="High">ε_high, at least <paramref name="Low"/>.</param>
/// <param name="Dual">c of the dual clip, above 1; 0 turns it off.</param>
public readonly record struct PolicyClip(float Low, float High, float Dual)
{
    /// <summary>PPO's symmetric clip ε without the dual clip.</summary>
    public static PolicyClip Symmetric(float eps) => new(eps, eps, 0f);

    /// <summary>Throws one clear error naming the flag when the clips are out of range (before any work).</summary>
    public void Validate()
    {
        if (!float.IsFinite(Low) || Low < 0 || Low >= 1)
            throw new ArgumentOutOfRangeException(nameof(Low), Low, $"--clip-low: {Low} must be in [0, 1) (the ratio is clipped below at 1 − clip-low)");
        if (!float.IsFinite(High) || High < 0)
            throw new ArgumentOutOfRangeException(nameof(High), High, $"--clip-high: {High} must be a finite number ≥ 0");
        if (High < Low)
            throw new ArgumentException($"--clip-high {High} is below --clip-low {Low}: DAPO's clip-higher keeps clip-high ≥ clip-low");
        if (!float.IsFinite(Dual) || (Dual != 0 && Dual <= 1))
            throw new ArgumentOutOfRangeException(nameof(Dual), Dual, $"--dual-clip: {Dual} must be above 1 (or 0 for off): the dual clip bounds −A·r at −A·c for A < 0");
    }
}
