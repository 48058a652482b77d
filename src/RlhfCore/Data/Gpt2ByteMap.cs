namespace RlhfCore.Data;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c> table: every byte maps to a printable character so BPE tokens can be
/// stored as text in vocab.json. Printable Latin-1 bytes map to themselves; the other 68 bytes map, in
/// byte order, to U+0100, U+0101, … (so the space 0x20 becomes 'Ġ' U+0120 and '\n' becomes 'Ċ' U+010A).
/// </summary>
internal static class Gpt2ByteMap
{
    /// <summary>Character for each byte.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>Byte for each mapped character, or -1 for characters outside the table (index = char, up to U+0143).</summary>
    public static readonly short[] CharToByte = Invert(ByteToChar);

    private static char[] Build()
    {
        var map = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= '¡' && b <= '¬') || (b >= '®' && b <= 'ÿ');
            map[b] = printable ? (char)b : (char)(256 + next++);
        }
        return map;
    }

    private static short[] Invert(char[] byteToChar)
    {
        var inverse = new short[byteToChar.Max() + 1];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++) inverse[byteToChar[b]] = (short)b;
        return inverse;
    }
}
