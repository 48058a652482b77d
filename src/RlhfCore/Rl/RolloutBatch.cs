using RlhfCore.Backends;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Rl;

/// <summary>
/// One rollout on the host: B sequences [prompt | response], right-padded to T tokens, and per-token
/// quantities on the action rows. Row n = b·T + t predicts token t + 1, so response token j of a
/// sequence with prompt length P is the action of row P − 1 + j: its log-probabilities (policy and
/// reference) and its value (the state before the action, as TRL) live on that row, and
/// <see cref="Mask"/> is 1 exactly there. Samples of one prompt are consecutive (group g = b / k).
/// </summary>
public sealed class RolloutBatch
{
    /// <summary>Sequences.</summary>
    public int B { get; }
    /// <summary>Padded length of every sequence.</summary>
    public int T { get; }
    /// <summary>Prompt texts, one per sequence.</summary>
    public string[] PromptTexts { get; }
    /// <summary>Response texts (EOS removed), one per sequence.</summary>
    public string[] ResponseTexts { get; }
    /// <summary>Prompt token counts.</summary>
    public int[] PromptLengths { get; }
    /// <summary>Response token counts (EOS included when present).</summary>
    public int[] ResponseLengths { get; }
    /// <summary>Whether each response ended with the EOS token.</summary>
    public bool[] StoppedAtEos { get; }
    /// <summary>[B·T] token ids (padding: 0).</summary>
    public int[] Tokens { get; }
    /// <summary>[B·T] positions counting real tokens.</summary>
    public int[] Positions { get; }
    /// <summary>[B·T] 1 on real tokens, 0 on padding.</summary>
    public int[] KeyMask { get; }
    /// <summary>[B·T] the next token on action rows, 0 elsewhere (a valid id, as the kernels require).</summary>
    public int[] Actions { get; }
    /// <summary>[B·T] 1 on action rows (response tokens), 0 elsewhere.</summary>
    public float[] Mask { get; }
    /// <summary>[B·T] log π(action) at sampling time.</summary>
    public float[] Logp { get; }
    /// <summary>[B·T] log π_ref(action).</summary>
    public float[] RefLogp { get; }
    /// <summary>[B·T] value-head outputs at sampling time (0 without a value head).</summary>
    public float[] Values { get; }

    /// <summary>Lays out <paramref name="prompts"/> followed by <paramref name="responses"/>, right-padded to <paramref name="T"/>.</summary>
    public RolloutBatch(string[] promptTexts, IReadOnlyList<int[]> prompts, IReadOnlyList<GeneratedSequence> responses, string[] responseTexts, int T)
    {
        B = prompts.Count;
        this.T = T;
        PromptTexts = promptTexts;
        ResponseTexts = responseTexts;
        PromptLengths = new int[B];
        ResponseLengths = new int[B];
        StoppedAtEos = new bool[B];
        int N = B * T;
        Tokens = new int[N]; Positions = new int[N]; KeyMask = new int[N]; Actions = new int[N];
        Mask = new float[N]; Logp = new float[N]; RefLogp = new float[N]; Values = new float[N];
        for (int b = 0; b < B; b++)
        {
            int P = prompts[b].Length, R = responses[b].Tokens.Length, L = P + R;
            if (L > T) throw new ArgumentException($"sequence {b} has {L} tokens, more than the rollout length {T}");
            PromptLengths[b] = P;
            ResponseLengths[b] = R;
            StoppedAtEos[b] = responses[b].StoppedAtEos;
            for (int t = 0; t < L; t++)
            {
                int n = b * T + t;
                Tokens[n] = t < P ? prompts[b][t] : responses[b].Tokens[t - P];
                Positions[n] = t;
                KeyMask[n] = 1;
            }
            for (int t = P - 1; t < L - 1; t++)
            {
                Actions[b * T + t] = Tokens[b * T + t + 1];
                Mask[b * T + t] = 1;
            }
        }
    }

    private RolloutBatch(int B, int T)
    {
        this.B = B;
        this.T = T;
        PromptTexts = new string[B]; ResponseTexts = new string[B];
        PromptLengths = new int[B]; ResponseLengths = new int[B]; StoppedAtEos = new bool[B];
        int N = B * T;
        Tokens = new int[N]; Positions = new int[N]; KeyMask = new int[N]; Actions = new int[N];
        Mask = new float[N]; Logp = new float[N]; RefLogp = new float[N]; Values = new float[N];
    }

    /// <summary>
    /// A batch of the given sequences of other batches of the same <see cref="T"/>, in that order, with all their
    /// per-token values (dynamic sampling assembles its kept groups this way).
    /// </summary>
    public static RolloutBatch Select(IReadOnlyList<(RolloutBatch Batch, int Sequence)> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("a rollout needs at least one sequence");
        int T = sequences[0].Batch.T;
        var r = new RolloutBatch(sequences.Count, T);
        for (int i = 0; i < sequences.Count; i++)
        {
            var (src, b) = sequences[i];
            if (src.T != T) throw new ArgumentException($"sequence {i} comes from a rollout of length {src.T}, not {T}");
            r.PromptTexts[i] = src.PromptTexts[b]; r.ResponseTexts[i] = src.ResponseTexts[b];
            r.PromptLengths[i] = src.PromptLengths[b]; r.ResponseLengths[i] = src.ResponseLengths[b]; r.StoppedAtEos[i] = src.StoppedAtEos[b];
            int from = b * T, to = i * T;
            Array.Copy(src.Tokens, from, r.Tokens, to, T); Array.Copy(src.Positions, from, r.Positions, to, T);
            Array.Copy(src.KeyMask, from, r.KeyMask, to, T); Array.Copy(src.Actions, from, r.Actions, to, T);
            Array.Copy(src.Mask, from, r.Mask, to, T); Array.Copy(src.Logp, from, r.Logp, to, T);
            Array.Copy(src.RefLogp, from, r.RefLogp, to, T); Array.Copy(src.Values, from, r.Values, to, T);
        }
        return r;
    }

    /// <summary>Row index of sequence b's last action (its last response token).</summary>
    public int LastActionRow(int b) => b * T + PromptLengths[b] + ResponseLengths[b] - 2;

    /// <summary>
    /// Uploads the inputs of sequences <paramref name="rows"/> (in that order) into <paramref name="acts"/>:
    /// tokens, positions, key mask, and the actions as <see cref="GptActivations.Targets"/>.
    /// </summary>
    public void Upload(IBackend be, GptActivations acts, ReadOnlySpan<int> rows)
    {
        int n = rows.Length * T;
        UploadThrough(be, acts, rows, new int[n], new int[n], new int[n], new int[n]);
    }

    /// <summary>
    /// <see cref="Upload(IBackend, GptActivations, ReadOnlySpan{int})"/> through caller-owned staging arrays of
    /// at least <c>rows.Length × T</c> ids each, so a training loop uploads minibatches without allocating.
    /// </summary>
    public void UploadThrough(IBackend be, GptActivations acts, ReadOnlySpan<int> rows, int[] tokens, int[] positions, int[] keyMask, int[] actions)
    {
        int n = rows.Length * T;
        for (int i = 0; i < rows.Length; i++)
        {
            int src = rows[i] * T, dst = i * T;
            Array.Copy(Tokens, src, tokens, dst, T);
            Array.Copy(Positions, src, positions, dst, T);
            Array.Copy(KeyMask, src, keyMask, dst, T);
            Array.Copy(Actions, src, actions, dst, T);
        }
        be.Upload<int>(acts.Tokens.Head(n), tokens.AsSpan(0, n));
        be.Upload<int>(acts.Positions.Head(n), positions.AsSpan(0, n));
        be.Upload<int>(acts.KeyMask.Head(n), keyMask.AsSpan(0, n));
        be.Upload<int>(acts.Targets.Head(n), actions.AsSpan(0, n));
    }

    /// <summary>The per-token values of <paramref name="source"/> for <paramref name="rows"/>, in that order.</summary>
    public float[] Gather(float[] source, ReadOnlySpan<int> rows)
    {
        var result = new float[rows.Length * T];
        Gather(source, rows, result);
        return result;
    }

    /// <summary>Writes the per-token values of <paramref name="source"/> for <paramref name="rows"/> into <paramref name="destination"/>, in that order.</summary>
    public void Gather(float[] source, ReadOnlySpan<int> rows, float[] destination)
    {
        for (int i = 0; i < rows.Length; i++) Array.Copy(source, rows[i] * T, destination, i * T, T);
    }
}
