namespace MLNetMerge.Text;

/// <summary>
/// GPT-2's reversible map from bytes to printable characters, so that byte-level BPE vocabularies are plain strings:
/// bytes 33–126, 161–172 and 174–255 map to the character with the same code; the remaining 68 bytes (0–32, 127–160,
/// 173), in increasing order, map to U+0100 + n for n = 0, 1, 2, … — space (32) becomes <c>Ġ</c> (U+0120), newline (10)
/// <c>Ċ</c> (U+010A), byte 173 <c>Ń</c> (U+0143).
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToCharTable = BuildTable();
    private static readonly short[] CharToByteTable = BuildInverse(ByteToCharTable);

    /// <summary>The character standing for byte <paramref name="b"/>.</summary>
    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a character stands for; false for characters outside the alphabet.</summary>
    public static bool TryCharToByte(char c, out byte b)
    {
        if (c < CharToByteTable.Length && CharToByteTable[c] >= 0)
        {
            b = (byte)CharToByteTable[c];
            return true;
        }
        b = 0;
        return false;
    }

    /// <summary>Maps each byte to its character: UTF-8 of <c>" héllo"</c> → <c>"ĠhÃ©llo"</c>.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = bytes.Length <= 512 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToCharTable[bytes[i]];
        return new string(chars);
    }

    private static char[] BuildTable()
    {
        var table = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            table[b] = printable ? (char)b : (char)(256 + n++);
        }
        return table;
    }

    private static short[] BuildInverse(char[] table)
    {
        var inverse = new short[256 + 68];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++) inverse[table[b]] = (short)b;
        return inverse;
    }
}
