namespace RlhfCore.Data;

/// <summary>
/// Splits a byte stream into lines (<c>\n</c>, with a trailing <c>\r</c> dropped) without decoding them, so a
/// line costs its bytes and no more, and a line longer than the limit fails as soon as the limit is passed
/// instead of being read whole. A UTF-8 byte-order mark at the start is skipped.
/// </summary>
internal sealed class LineReader(Stream stream, string path, int maxLineBytes)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;
    private byte[] _line = new byte[4096];
    private bool _first = true;
    private long _consumed;

    /// <summary>1-based number of the line last returned.</summary>
    public int LineNumber { get; private set; }

    /// <summary>Offset in the (decompressed) stream of the line last returned.</summary>
    public long LineOffset { get; private set; }

    /// <summary>The next line's bytes (valid until the next call), or false at the end of the stream.</summary>
    /// <exception cref="DataFormatException">The line is longer than the limit.</exception>
    public bool TryReadLine(out ReadOnlyMemory<byte> line)
    {
        int length = 0;
        long offset = _consumed;
        bool any = false;
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = stream.Read(_buffer, 0, _buffer.Length);
                if (_end == 0)
                {
                    if (!any) { line = default; return false; }
                    break;
                }
            }
            any = true;
            var chunk = _buffer.AsSpan(_start, _end - _start);
            int newline = chunk.IndexOf((byte)'\n');
            int take = newline >= 0 ? newline : chunk.Length;
            if ((long)length + take > maxLineBytes)
                throw new DataFormatException(path, LineNumber + 1, null,
                    $"is longer than the limit of {maxLineBytes:N0} bytes (raise it with --max-line-bytes)");
            Append(chunk[..take], ref length);
            _start += newline >= 0 ? take + 1 : take;
            _consumed += newline >= 0 ? take + 1 : take;
            if (newline >= 0) break;
        }
        LineNumber++;
        int begin = 0;
        if (_first)
        {
            _first = false;
            if (_line.AsSpan(0, length).StartsWith("\uFEFF"u8)) begin = 3;
        }
        LineOffset = offset + begin;
        if (length > begin && _line[length - 1] == '\r') length--;
        line = _line.AsMemory(begin, length - begin);
        return true;
    }

    private void Append(ReadOnlySpan<byte> bytes, ref int length)
    {
        if (length + bytes.Length > _line.Length)
            Array.Resize(ref _line, (int)Math.Min(Math.Max((long)_line.Length * 2, length + bytes.Length), maxLineBytes));
        bytes.CopyTo(_line.AsSpan(length));
        length += bytes.Length;
    }
}
