namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>How an ensemble's members are built.</summary>
public enum EnsembleTrunk
{
    /// <summary>Every member is a full model, trained with its own seed on its own bootstrap resample.</summary>
    Own,
    /// <summary>Member 0's trained trunk is shared and frozen; every further member is a fresh reward head fitted on its own resample (<see cref="LinearHeads"/>).</summary>
    Shared,
}

/// <summary>How an ensemble's member scores become the one reward an optimizer sees (Coste et al., ICLR 2024).</summary>
public enum RewardAggregate
{
    /// <summary>The mean over members (a single model's score when K = 1).</summary>
    Mean,
    /// <summary>Worst-case optimization: the minimum over members.</summary>
    Min,
    /// <summary>Uncertainty-weighted optimization: mean − λ·std over members.</summary>
    MeanStd,
}

/// <summary>An aggregate and its uncertainty coefficient λ (used by <see cref="RewardAggregate.MeanStd"/> only).</summary>
/// <param name="Aggregate">The aggregate.</param>
/// <param name="UncertaintyCoef">λ in mean − λ·std; ≥ 0.</param>
public sealed record RewardAggregation(RewardAggregate Aggregate = RewardAggregate.Mean, double UncertaintyCoef = 1.0)
{
    /// <summary>The aggregate of every sample.</summary>
    public double[] Apply(EnsembleScores s) => Aggregate switch
    {
        RewardAggregate.Mean => (double[])s.Mean.Clone(),
        RewardAggregate.Min => (double[])s.Min.Clone(),
        RewardAggregate.MeanStd => s.Mean.Select((m, i) => m - UncertaintyCoef * s.Std[i]).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(Aggregate), Aggregate, null),
    };

    /// <summary>Throws naming the flags when λ is out of range (checked before any model is loaded).</summary>
    public RewardAggregation Validate()
    {
        if (!(UncertaintyCoef >= 0) || double.IsInfinity(UncertaintyCoef))
            throw new ArgumentException($"--uncertainty-coef must be a finite number ≥ 0, got {UncertaintyCoef}");
        return this;
    }

    /// <summary>
    /// Throws naming the flag when the aggregate needs more members than <paramref name="members"/>: min and
    /// mean-std over one model are its score (min) or its score exactly (std = 0), which is never what was meant.
    /// </summary>
    public RewardAggregation ValidateFor(int members, string source)
    {
        Validate();
        if (members < 2 && Aggregate != RewardAggregate.Mean)
            throw new ArgumentException($"--reward-aggregate {Aggregate} needs an ensemble of at least 2 reward models, but {source} has {members}; " +
                "train one with rlhf reward --ensemble K (K ≥ 2), or use --reward-aggregate Mean");
        return this;
    }
}
