using System.Text;

namespace RlhfCore.Tests.Data;

/// <summary>Random strings for round-trip tests: ASCII words, whitespace runs, contractions, accents, CJK and emoji (surrogate pairs).</summary>
internal static class RandomText
{
    private static readonly string[] Pieces =
        ["a", "Z", "the", "'s", "'ll", "'", " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "7", "42", ".", "!?", "<|", "|>",
         "é", "ß", "日本", "Ж", "🤗", "👍🏽", "\u0301", "٣", "Ⅻ"];

    /// <summary>A string of <paramref name="parts"/> pieces: mostly from the list above, sometimes any Unicode scalar value.</summary>
    public static string Next(Random rng, int parts)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < parts; i++)
        {
            if (rng.Next(4) == 0)
            {
                int cp;
                do cp = rng.Next(1, 0x110000); while (cp is >= 0xD800 and <= 0xDFFF);
                sb.Append(char.ConvertFromUtf32(cp));
            }
            else sb.Append(Pieces[rng.Next(Pieces.Length)]);
        }
        return sb.ToString();
    }
}
