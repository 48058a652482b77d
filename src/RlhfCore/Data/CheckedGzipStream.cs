using System.Buffers.Binary;
using System.IO.Compression;

namespace RlhfCore.Data;

/// <summary>
/// Decompresses a <c>.gz</c> file and checks what <see cref="GZipStream"/> does not: that it is gzip at all
/// (the magic bytes), and that the trailer (the CRC-32 and size of the data, the file's last 8 bytes) is
/// there and matches. <see cref="GZipStream"/> checks the trailer when it is present, but a file cut off
/// before it reads as complete. Every failure is a <see cref="DataFormatException"/> naming the file.
/// The trailer is taken as the whole data's, as gzip, Python and .NET write single-member files.
/// </summary>
public sealed class CheckedGzipStream : Stream
{
    private readonly string _path;
    private readonly GZipStream _inner;
    private readonly uint _expectedCrc, _expectedSize;
    private uint _crc;
    private long _size;
    private bool _verified;

    private CheckedGzipStream(string path, FileStream file, uint expectedCrc, uint expectedSize)
    {
        _path = path;
        _inner = new GZipStream(file, CompressionMode.Decompress);
        _expectedCrc = expectedCrc;
        _expectedSize = expectedSize;
    }

    /// <summary>Opens <paramref name="path"/>, after checking its magic bytes and reading its trailer.</summary>
    /// <exception cref="DataFormatException">The file is too short to be gzip or does not start with gzip's magic bytes.</exception>
    public static CheckedGzipStream Open(string path, FileStream file)
    {
        // Header (10 bytes) + an empty deflate block (2) + trailer (8).
        if (file.Length < 20) throw new DataFormatException(path, null, null, $"is not gzip data: {file.Length} bytes is shorter than any gzip file");
        Span<byte> head = stackalloc byte[3];
        file.ReadExactly(head);
        if (head[0] != 0x1F || head[1] != 0x8B)
            throw new DataFormatException(path, null, null, $"is not gzip data: it starts with bytes {head[0]:x2} {head[1]:x2}, not gzip's 1f 8b, though its name ends in .gz");
        if (head[2] != 8) throw new DataFormatException(path, null, null, $"is not deflate-compressed gzip (compression method {head[2]}, expected 8)");
        Span<byte> trailer = stackalloc byte[8];
        file.Seek(-8, SeekOrigin.End);
        file.ReadExactly(trailer);
        file.Seek(0, SeekOrigin.Begin);
        return new CheckedGzipStream(path, file, BinaryPrimitives.ReadUInt32LittleEndian(trailer), BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]));
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = _inner.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            // zlib's data errors (a bad CRC among them) come back as "unsupported compression method".
            throw new DataFormatException(_path, null, null, $"is corrupt gzip data after {_size:N0} decompressed bytes (bad deflate data or CRC): {e.Message}", e);
        }
        if (n > 0)
        {
            _crc = Crc32.Update(_crc, buffer[..n]);
            _size += n;
        }
        else if (!_verified && buffer.Length > 0)
        {
            _verified = true;
            if (_crc != _expectedCrc || (uint)_size != _expectedSize)
                throw new DataFormatException(_path, null, null,
                    $"is truncated or corrupt gzip: its last 8 bytes (CRC {_expectedCrc:x8}, size {_expectedSize:N0}) do not match the {_size:N0} bytes it decompresses to (CRC {_crc:x8}); the end of the file is missing, or it is several gzip files joined together");
        }
        return n;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override bool CanRead => true;
    /// <inheritdoc/>
    public override bool CanSeek => false;
    /// <inheritdoc/>
    public override bool CanWrite => false;
    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();
    /// <inheritdoc/>
    public override long Position { get => _size; set => throw new NotSupportedException(); }
    /// <inheritdoc/>
    public override void Flush() { }
    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();
    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
