using RlhfCore.Model;

namespace RlhfCore.Rl;

/// <summary>Initializing the policy's value head.</summary>
public static class ValueHead
{
    /// <summary>
    /// Copies the reward model's score head into the policy's value head (bias 0), so the critic starts
    /// out predicting the reward model's score from the policy's features. Same width required.
    /// </summary>
    public static void CopyFromRewardHead(GptModel policy, GptModel rewardModel)
    {
        if (!policy.Heads.HasFlag(ModelHeads.Value)) throw new ArgumentException("the policy has no value head");
        if (!rewardModel.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException("the reward model has no reward head (score.weight)");
        if (rewardModel.Config.Channels != policy.Config.Channels)
            throw new ArgumentException($"the reward model's width {rewardModel.Config.Channels} differs from the policy's {policy.Config.Channels}");
        var w = new float[policy.Config.Channels];
        rewardModel.Backend.Download<float>(rewardModel.Parameters[GptParameters.RewardWeight], w);
        policy.Backend.Upload<float>(policy.Parameters[GptParameters.ValueWeight], w);
        policy.Backend.Zero(policy.Parameters[GptParameters.ValueBias]);
    }
}
