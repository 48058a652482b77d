using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Rl;

namespace RlhfCore.Training.BestOfN;

/// <summary>
/// Best-of-n sampling: n completions per prompt from the policy (batched KV-cache generation), each scored,
/// the highest kept. Rows are laid out prompt-major (prompt i's samples are rows i·n … i·n+n−1) and
/// generated in chunks of the generator's batch, so with n = 1 the draws are exactly plain sampling's with
/// the same random stream and batch.
/// </summary>
public sealed class BestOfNSampler : IDisposable
{
    private readonly GptGenerator _generator;
    private readonly ITokenizer _tokenizer;
    private readonly IRewardFunction _scorer;
    private readonly int _maxBatch;

    /// <summary>
    /// A sampler over <paramref name="policy"/> generating up to <paramref name="maxBatch"/> rows at once for
    /// prompts of up to <paramref name="maxPromptTokens"/> tokens, scored by <paramref name="scorer"/>.
    /// </summary>
    public BestOfNSampler(GptModel policy, ITokenizer tokenizer, IRewardFunction scorer, int maxBatch, int maxPromptTokens)
    {
        _generator = new GptGenerator(policy, maxBatch, maxPromptTokens);
        _tokenizer = tokenizer;
        _scorer = scorer;
        _maxBatch = maxBatch;
    }

    /// <summary>The prompt's tokens as the policy sees them (an empty prompt is the end-of-text token).</summary>
    public int[] EncodePrompt(string prompt) => prompt.Length == 0 ? [_tokenizer.EndOfText] : _tokenizer.Encode(prompt);

    /// <summary>Samples <paramref name="n"/> completions of each prompt with <paramref name="sampling"/> and <paramref name="rng"/>, and scores them.</summary>
    public BestOfNResult Sample(IReadOnlyList<string> prompts, int n, SamplingOptions sampling, Rng rng)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n (samples per prompt) must be positive");
        if (prompts.Count == 0) throw new ArgumentException("no prompts");
        var encoded = prompts.Select(EncodePrompt).ToArray();
        int rows = prompts.Count * n;
        var completions = new Completion[rows];
        var chunk = new List<int[]>(_maxBatch);
        for (int start = 0; start < rows; start += _maxBatch)
        {
            chunk.Clear();
            int end = Math.Min(rows, start + _maxBatch);
            for (int r = start; r < end; r++) chunk.Add(encoded[r / n]);
            var generated = _generator.Generate(chunk, sampling, rng);
            for (int r = start; r < end; r++)
            {
                var g = generated[r - start];
                var text = g.StoppedAtEos ? g.Tokens.AsSpan(0, g.Tokens.Length - 1) : g.Tokens;
                completions[r] = new Completion(prompts[r / n], encoded[r / n], g.Tokens, _tokenizer.Decode(text), g.StoppedAtEos);
            }
        }
        var scores = _scorer.Score(completions.Select(c => c.Prompt).ToArray(), completions.Select(c => c.Text).ToArray());
        var perPrompt = new BestOfNPrompt[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
            perPrompt[i] = new BestOfNPrompt(prompts[i], completions[(i * n)..((i + 1) * n)], scores[(i * n)..((i + 1) * n)]);
        return new BestOfNResult(n, perPrompt, _scorer.Name);
    }

    /// <inheritdoc/>
    public void Dispose() => _generator.Dispose();
}
