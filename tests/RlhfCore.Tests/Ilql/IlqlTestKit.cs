using RlhfCore.Data;
using RlhfCore.Rl.Ilql;
using RlhfCore.Training.Ilql;

namespace RlhfCore.Tests.Ilql;

/// <summary>Synthetic ILQL data for the trainer tests: digit prompts, letter completions, reward = the number of a's.</summary>
internal static class IlqlTestKit
{
    /// <summary><paramref name="count"/> byte-tokenized sequences that fit rows of <paramref name="seqLen"/> inputs.</summary>
    public static List<IlqlSequence> Sequences(int count, int seqLen)
    {
        var rng = new Random(1);
        string Pick(string letters, int n) => new([.. Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)])]);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            string completion = Pick("abc", 1 + rng.Next(3));
            return IlqlSequence.From(new IlqlExample(Pick("0123456789", 2 + rng.Next(2)), completion, completion.Count(c => c == 'a'), $"synthetic line {i + 1}"),
                ByteTokenizer.Instance, seqLen, 260);
        })];
    }

    /// <summary>The same data as a ratings JSONL text.</summary>
    public static string RatingsJsonl(int count)
    {
        var rng = new Random(2);
        return string.Concat(Enumerable.Range(0, count).Select(_ =>
        {
            string completion = new([.. Enumerable.Range(0, 1 + rng.Next(3)).Select(_ => "abc"[rng.Next(3)])]);
            return $"{{\"prompt\":\"{rng.Next(100)}\",\"completion\":\"{completion}\",\"rating\":{completion.Count(c => c == 'a')}}}\n";
        }));
    }
}
