using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using RlhfCore.IO;

namespace RlhfCore.Tests.IO;

public class SafetensorsRoundTripTests
{
    [Test]
    public void RoundTrip_KeepsDTypesShapesBytesAndMetadata()
    {
        using var dir = new TempDir();
        string path = dir.File("a.safetensors");
        var f32 = new[] { 1f, -2.5f, 3.25f, float.MaxValue, float.Epsilon, -0f };
        var i32 = new[] { int.MinValue, 0, 7 };
        var u8 = new byte[] { 0, 255, 17 };
        var f64 = new[] { 1.0 / 3, -1e300 };
        var tensors = new List<SafetensorsTensor>
        {
            SafetensorsTensor.FromFloat32("w", [2, 3], f32),
            SafetensorsTensor.FromInt32("ids", [3], i32),
            SafetensorsTensor.FromBytes("bytes", SafetensorsDType.U8, [3], u8),
            SafetensorsTensor.FromBytes("d", SafetensorsDType.F64, [2], MemoryMarshal.AsBytes(f64.AsSpan()).ToArray()),
            SafetensorsTensor.FromFloat32("empty", [0, 5], []),
            SafetensorsTensor.FromFloat32("scalar", [], [42f]),
        };
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };
        SafetensorsWriter.Write(path, tensors, meta);

        using var f = SafetensorsFile.Open(path);
        Assert.That(f.Entries.Select(e => e.Name), Is.EqualTo(new[] { "w", "ids", "bytes", "d", "empty", "scalar" }));
        Assert.That(f.Metadata, Is.EquivalentTo(meta));
        Assert.That(f["w"].Shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(f["empty"].Shape, Is.EqualTo(new long[] { 0, 5 }));
        Assert.That(f["scalar"].Shape, Is.Empty);
        Assert.That(f.ReadFloat32("w"), Is.EqualTo(f32));
        Assert.That(BitConverter.SingleToInt32Bits(f.ReadFloat32("w")[5]), Is.EqualTo(BitConverter.SingleToInt32Bits(-0f)));
        Assert.That(f.ReadInt32("ids"), Is.EqualTo(i32));
        Assert.That(f.ReadBytes("bytes"), Is.EqualTo(u8));
        Assert.That(f.ReadFloat32("d"), Is.EqualTo(new[] { (float)(1.0 / 3), float.NegativeInfinity }));
        Assert.That(f.ReadFloat32("empty"), Is.Empty);
        Assert.That(f.ReadFloat32("scalar"), Is.EqualTo(new[] { 42f }));
    }

    [Test]
    public void HalfAndBFloat16_AreConvertedToFloat32()
    {
        using var dir = new TempDir();
        string path = dir.File("h.safetensors");
        var halves = new[] { (Half)1.5f, (Half)(-0.25f), Half.PositiveInfinity };
        // bfloat16 is the top 16 bits of the float: 1.0f = 0x3F80, -2.0f = 0xC000, 3.140625f = 0x4049.
        var bf16 = new ushort[] { 0x3F80, 0xC000, 0x4049 };
        SafetensorsWriter.Write(path,
        [
            SafetensorsTensor.FromBytes("h", SafetensorsDType.F16, [3], MemoryMarshal.AsBytes(halves.AsSpan()).ToArray()),
            SafetensorsTensor.FromBytes("b", SafetensorsDType.BF16, [3], MemoryMarshal.AsBytes(bf16.AsSpan()).ToArray()),
        ]);
        using var f = SafetensorsFile.Open(path);
        Assert.That(f.ReadFloat32("h"), Is.EqualTo(new[] { 1.5f, -0.25f, float.PositiveInfinity }));
        Assert.That(f.ReadFloat32("b"), Is.EqualTo(new[] { 1f, -2f, 3.140625f }));
        Assert.Throws<SafetensorsException>(() => f.ReadInt32("h"));
    }

    [Test]
    public void Header_IsPaddedWithSpacesTo8Bytes()
    {
        using var dir = new TempDir();
        string path = dir.File("p.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsTensor.FromFloat32("x", [1], [1f])], new Dictionary<string, string> { ["k"] = "v" });
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(n % 8, Is.EqualTo(0UL));
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.That(header, Does.StartWith("{\"__metadata__\":{\"k\":\"v\"},\"x\":"));
        Assert.That(header.TrimEnd(' '), Does.EndWith("}"));
        Assert.That(bytes.Length, Is.EqualTo(8 + (int)n + 4));
    }

    [Test]
    public void Writer_RejectsDuplicateNames()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<SafetensorsException>(() => SafetensorsWriter.Write(dir.File("d.safetensors"),
            [SafetensorsTensor.FromFloat32("x", [1], [1f]), SafetensorsTensor.FromFloat32("x", [1], [2f])]));
        Assert.That(ex!.Message, Does.Contain("duplicate tensor name").And.Contain("'x'"));
    }
}
