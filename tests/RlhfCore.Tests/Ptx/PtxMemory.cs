using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Emulated global memory: separate allocations at 256-byte aligned fake addresses above 4 GiB (so that
/// an address truncated to 32 bits cannot land in a buffer). Every access is bounds-checked against the
/// allocation it starts in; an access outside all of them, or straddling an end, is an error.
/// </summary>
public sealed class PtxMemory
{
    private readonly List<(ulong Base, byte[] Data)> _blocks = [];
    private ulong _next = 0x1_0000_0000;

    /// <summary>Allocates <paramref name="bytes"/> (zeroed) and returns its address.</summary>
    public ulong Alloc(long bytes)
    {
        ulong a = _next;
        _blocks.Add((a, new byte[bytes]));
        // a gap after every block, so that running off one never reaches the next
        _next = (a + (ulong)bytes + 4096 + 255) & ~255UL;
        return a;
    }

    /// <summary>Allocates and fills with <paramref name="data"/>.</summary>
    public ulong Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(data);
        ulong a = Alloc(bytes.Length);
        bytes.CopyTo(_blocks[^1].Data);
        return a;
    }

    /// <summary>The elements of the allocation at <paramref name="address"/>.</summary>
    public T[] Download<T>(ulong address, long count) where T : unmanaged
    {
        var (data, off) = Find(address, count * Marshal.SizeOf<T>()) ?? throw new PtxException($"no allocation at 0x{address:x}");
        return MemoryMarshal.Cast<byte, T>(data.AsSpan(off, (int)(count * Marshal.SizeOf<T>()))).ToArray();
    }

    /// <summary>Reads <paramref name="size"/> (1, 2, 4 or 8) bytes, little-endian; null when out of bounds.</summary>
    public bool TryRead(ulong address, int size, out ulong value)
    {
        value = 0;
        if (Find(address, size) is not var (data, off)) return false;
        value = size switch
        {
            4 => BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(off)),
            8 => BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(off)),
            2 => BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(off)),
            _ => data[off],
        };
        return true;
    }

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/>; false when out of bounds.</summary>
    public bool TryWrite(ulong address, int size, ulong value)
    {
        if (Find(address, size) is not var (data, off)) return false;
        switch (size)
        {
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(off), (uint)value); break;
            case 8: BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(off), value); break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(off), (ushort)value); break;
            default: data[off] = (byte)value; break;
        }
        return true;
    }

    private (byte[] Data, int Offset)? Find(ulong address, long size)
    {
        // allocations are in increasing address order: binary search for the last base <= address
        int lo = 0, hi = _blocks.Count - 1, hit = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_blocks[mid].Base <= address) { hit = mid; lo = mid + 1; } else hi = mid - 1;
        }
        if (hit < 0) return null;
        var (b, d) = _blocks[hit];
        ulong off = address - b;
        return off + (ulong)size <= (ulong)d.Length ? (d, (int)off) : null;
    }
}
