using System.Buffers.Binary;
using System.Text;
using RlhfCore.IO;

namespace RlhfCore.Tests.IO;

/// <summary>One test case per class of malformed file, each with the message it must produce.</summary>
public class SafetensorsMalformedTests
{
    /// <summary>8-byte length, header bytes, then <paramref name="dataBytes"/> zero bytes.</summary>
    internal static byte[] Raw(byte[] header, int dataBytes, ulong? length = null)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    internal static byte[] Raw(string header, int dataBytes, ulong? length = null) => Raw(Encoding.UTF8.GetBytes(header), dataBytes, length);

    private const string X = "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData C(string name, byte[] file, string message) => new TestCaseData(file, message).SetName("Rejects_" + name);
        yield return C("FileShorterThanLength", [1, 0, 0], "too small for the 8-byte header length");
        yield return C("HeaderOver100MB", Raw("{}", 0, 100_000_001), "exceeds the 100000000-byte limit");
        yield return C("HeaderLongerThanFile", Raw("{}", 0, 3), "larger than the 2 bytes after it");
        yield return C("HeaderLengthHuge", Raw("{}", 0, ulong.MaxValue), "exceeds the 100000000-byte limit");
        yield return C("InvalidUtf8", Raw([(byte)'{', 0xC3, 0x28, (byte)'}'], 0), "not valid UTF-8");
        yield return C("NotStartingWithBrace", Raw(" {}", 0), "must start with '{'");
        yield return C("EmptyHeader", Raw("", 0), "must start with '{'");
        yield return C("InvalidJson", Raw("{\"x\":", 0), "not valid JSON");
        yield return C("TrailingGarbage", Raw("{} x", 0), "not valid JSON");
        yield return C("TensorInfoNotObject", Raw("{\"x\":3}", 0), "'x': tensor info must be an object");
        yield return C("MissingField", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "must have dtype, shape and data_offsets");
        yield return C("UnknownField", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"y\":1}}", 8), "unknown field 'y'");
        yield return C("UnknownDType", Raw("{\"x\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unknown dtype \"F17\"");
        yield return C("LowercaseDType", Raw("{\"x\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unknown dtype \"f32\"");
        yield return C("NegativeShape", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "shape entry -2 is not a non-negative integer");
        yield return C("FractionalShape", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8), "shape entry 2.0 is not a non-negative integer");
        yield return C("ShapeNotArray", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8), "shape must be an array");
        yield return C("ThreeOffsets", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8), "data_offsets must be an array of two integers");
        yield return C("NegativeOffset", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8), "data_offsets entry -8 is not a non-negative integer");
        yield return C("BeginAfterEnd", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8), "begin 8 is after end 0");
        yield return C("SizeMismatch", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "span 8 bytes but dtype F32 and shape [3] need 12");
        yield return C("ShapeOverflow", Raw("{\"x\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8), "overflows a 64-bit byte count");
        yield return C("Hole", Raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "leave a hole: the previous tensor ends at 0");
        yield return C("Overlap", Raw("{" + X + ",\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "'y': data_offsets [4, 12] overlap");
        yield return C("BufferTooLong", Raw("{" + X + "}", 9), "tensors cover 8 bytes of data but the file holds 9");
        yield return C("BufferTruncated", Raw("{" + X + "}", 7), "tensors cover 8 bytes of data but the file holds 7");
        yield return C("DuplicateTensor", Raw("{" + X + "," + X + "}", 8), "'x': duplicate key in header");
        yield return C("MetadataNotObject", Raw("{\"__metadata__\":[]}", 0), "__metadata__ must be an object of strings");
        yield return C("MetadataNotString", Raw("{\"__metadata__\":{\"a\":1}}", 0), "__metadata__ value of 'a' must be a string");
        yield return C("MetadataDuplicateKey", Raw("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0), "duplicate key 'a' in __metadata__");
    }

    [TestCaseSource(nameof(Cases))]
    public void MalformedFile_IsRejectedWithItsOwnMessage(byte[] file, string message)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, file);
        var ex = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(ex!.Message, Does.Contain(message));
        Assert.That(ex.Message, Does.Contain(path));
    }

    [Test]
    public void TrailingSpacesAndEmptyObject_AreAccepted()
    {
        using var dir = new TempDir();
        string path = dir.File("ok.safetensors");
        File.WriteAllBytes(path, Raw("{" + X + "}     ", 8));
        using (var f = SafetensorsFile.Open(path)) Assert.That(f.ReadFloat32("x"), Is.EqualTo(new[] { 0f, 0f }));
        File.WriteAllBytes(path, Raw("{}", 0));
        using (var f = SafetensorsFile.Open(path)) Assert.That(f.Entries, Is.Empty);
    }

    [Test]
    public void MissingFile_IsASafetensorsExceptionNamingIt()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<SafetensorsException>(() => SafetensorsFile.Open(dir.File("nope.safetensors")));
        Assert.That(ex!.Message, Does.Contain("nope.safetensors").And.Contain("cannot open"));
    }
}
