using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Rl;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// A tokenizer for tiny vocabularies: id i is the letter 'a' + i, the last id is end-of-text ('#'),
/// so token-level RL tasks read as short strings.
/// </summary>
internal sealed class LetterTokenizer(int vocabSize) : ITokenizer
{
    public string Name => "letters";
    public int VocabSize => vocabSize;
    public int EndOfText => vocabSize - 1;
    public int[] Encode(string text) => text.Select(c => c == '#' ? EndOfText : c - 'a').ToArray();
    public void Encode(ReadOnlySpan<char> text, List<int> output) { foreach (char c in text) output.Add(c == '#' ? EndOfText : c - 'a'); }
    public string Decode(ReadOnlySpan<int> ids)
    {
        var chars = new char[ids.Length];
        for (int i = 0; i < ids.Length; i++) chars[i] = ids[i] == EndOfText ? '#' : (char)('a' + ids[i]);
        return new string(chars);
    }
    public bool IsValidId(int id) => (uint)id < (uint)vocabSize;
}

internal static class RlTestKit
{
    /// <summary>Copies every tensor of <paramref name="dst"/> from the same-named tensor of <paramref name="src"/> (heads may differ).</summary>
    public static void CopyShared(GptModel src, GptModel dst)
    {
        for (int i = 0; i < dst.Table.Count; i++)
            dst.Backend.Copy(dst.Parameters.Tensors[i], src.Parameters[dst.Table[i].Name]);
    }

    /// <summary>All parameters of <paramref name="model"/> as one host array.</summary>
    public static float[] Parameters(GptModel model)
    {
        var all = new float[model.Parameters.All.Length];
        model.Backend.Download<float>(model.Parameters.All, all);
        return all;
    }

    /// <summary>A rollout with random prompt and response lengths and random per-token inputs on its action rows.</summary>
    public static RolloutBatch RandomRollout(Random rng, int B, int T, int V)
    {
        var prompts = new List<int[]>();
        var responses = new List<GeneratedSequence>();
        for (int b = 0; b < B; b++)
        {
            int P = 1 + rng.Next(3), R = 1 + rng.Next(T - P);
            prompts.Add(Enumerable.Range(0, P).Select(_ => rng.Next(V)).ToArray());
            responses.Add(new GeneratedSequence(Enumerable.Range(0, R).Select(_ => rng.Next(V)).ToArray(), rng.Next(2) == 0));
        }
        var r = new RolloutBatch(new string[B], prompts, responses, new string[B], T);
        for (int n = 0; n < r.Mask.Length; n++)
        {
            if (r.Mask[n] == 0) continue;
            r.Logp[n] = (float)(-0.1 - 2 * rng.NextDouble());
            r.RefLogp[n] = (float)(r.Logp[n] + rng.NextDouble() - 0.5);
            r.Values[n] = (float)(rng.NextDouble() * 2 - 1);
        }
        return r;
    }
}
