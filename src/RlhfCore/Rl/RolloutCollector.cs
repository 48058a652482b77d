using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Rl;

/// <summary>
/// Produces rollouts: samples responses from the policy with the KV cache, then runs one forward pass
/// over each [prompt | response] batch (right-padded) under the policy, for per-token log-probabilities
/// and values, and under the frozen reference, for its log-probabilities. Log-probabilities are taken
/// from logits divided by the sampling temperature, as TRL does, so they are those of the sampling
/// distribution. Forward passes run <c>acts.B</c> sequences at a time in the caller's activations.
/// </summary>
public sealed class RolloutCollector : IDisposable
{
    private readonly GptModel _policy, _reference;
    private readonly ITokenizer _tokenizer;
    private readonly GptActivations _acts;
    private readonly GptGenerator _generator;
    private readonly SamplingOptions _sampling;
    private readonly float[] _chunk;

    /// <summary>The padded length of every rollout sequence: longest prompt + max new tokens.</summary>
    public int T => _acts.T;

    /// <summary>
    /// A collector for rollouts of <paramref name="rolloutSize"/> sequences with prompts of at most
    /// <paramref name="maxPromptTokens"/> tokens; <paramref name="acts"/> is [chunk, maxPromptTokens + maxNewTokens].
    /// </summary>
    public RolloutCollector(GptModel policy, GptModel reference, ITokenizer tokenizer, GptActivations acts,
        int rolloutSize, int maxPromptTokens, int maxNewTokens, float temperature, bool stopAtEos)
    {
        if (reference.Config != policy.Config) throw new ArgumentException($"the reference model ({reference.Config}) and the policy ({policy.Config}) differ in architecture");
        if (acts.T != maxPromptTokens + maxNewTokens) throw new ArgumentException("activations must be laid out for prompt + response tokens");
        if (rolloutSize % acts.B != 0) throw new ArgumentException($"the rollout of {rolloutSize} sequences is not a multiple of the forward chunk {acts.B}");
        _policy = policy;
        _reference = reference;
        _tokenizer = tokenizer;
        _acts = acts;
        _generator = new GptGenerator(policy, rolloutSize, maxPromptTokens);
        _sampling = new SamplingOptions(MaxNewTokens: maxNewTokens, Temperature: temperature, EosToken: stopAtEos ? tokenizer.EndOfText : null).Validate();
        _chunk = new float[acts.B * acts.T];
    }

    /// <summary>Samples one response per entry of <paramref name="prompts"/> and scores every token.</summary>
    public RolloutBatch Collect(string[] prompts, Rng rng)
    {
        var promptTokens = prompts.Select(_tokenizer.Encode).ToArray();
        var generated = _generator.Generate(promptTokens, _sampling, rng);
        var texts = generated.Select(g => _tokenizer.Decode(g.StoppedAtEos ? g.Tokens.AsSpan(0, g.Tokens.Length - 1) : g.Tokens)).ToArray();
        var batch = new RolloutBatch(prompts, promptTokens, generated, texts, T);

        var be = _policy.Backend;
        int chunk = _acts.B, N = chunk * T, V = _policy.Config.VocabSize;
        var rows = new int[chunk];
        for (int start = 0; start < batch.B; start += chunk)
        {
            for (int i = 0; i < chunk; i++) rows[i] = start + i;
            batch.Upload(be, _acts, rows);
            LogProbs(_policy, batch.Logp, start, N, V);
            if (_policy.Heads.HasFlag(ModelHeads.Value))
            {
                be.Download<float>(_acts.Values.Slice(0, N), _chunk);
                _chunk.CopyTo(batch.Values, start * T);
            }
            LogProbs(_reference, batch.RefLogp, start, N, V);
        }
        // Only action rows carry meaning; zero the rest so padding never leaks into sums.
        for (int n = 0; n < batch.Mask.Length; n++)
            if (batch.Mask[n] == 0) { batch.Logp[n] = 0; batch.RefLogp[n] = 0; batch.Values[n] = 0; }
        return batch;
    }

    private void LogProbs(GptModel model, float[] target, int start, int N, int V)
    {
        var be = model.Backend;
        model.Forward(_acts, _acts.B, T);
        Tensor logits = _acts.Logits.Slice(0, (long)N * V, [N, V]);
        if (_sampling.Temperature != 1f) be.Scale(logits, 1f / _sampling.Temperature, (long)N * V);
        be.TokenLogProbsForward(_acts.Losses.Slice(0, N), logits, _acts.Targets.Slice(0, N), N, V);
        be.Download<float>(_acts.Losses.Slice(0, N), _chunk);
        _chunk.CopyTo(target, start * T);
    }

    /// <inheritdoc/>
    public void Dispose() => _generator.Dispose();
}
