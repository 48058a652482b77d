namespace RlhfCore.Training.BestOfN;

/// <summary>One sampled continuation of a prompt.</summary>
/// <param name="Prompt">The prompt text.</param>
/// <param name="PromptTokens">The prompt's token ids as the policy saw them.</param>
/// <param name="Tokens">The generated ids, the end-of-text token included when the row stopped on it.</param>
/// <param name="Text">The generated text without the end-of-text token.</param>
/// <param name="StoppedAtEos">True when the row emitted end-of-text; false when it ran out of tokens.</param>
public sealed record Completion(string Prompt, int[] PromptTokens, int[] Tokens, string Text, bool StoppedAtEos);
