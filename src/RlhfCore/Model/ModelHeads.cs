namespace RlhfCore.Model;

/// <summary>Which heads sit on the trunk besides the tied LM head.</summary>
[Flags]
public enum ModelHeads
{
    /// <summary>Only the LM head (tied to the token embedding).</summary>
    None = 0,
    /// <summary>A scalar per token (the PPO critic), named as TRL's <c>v_head.summary</c>.</summary>
    Value = 1,
    /// <summary>A scalar per sequence at its last real token, named as HF's <c>score</c> (no bias).</summary>
    Reward = 2,
}
