using System.IO.Compression;
using System.Text;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Finding 5 of issue 12: corrupt data was accepted. Invalid UTF-8, a gzip file without its trailer, a bad
/// CRC, plain text named .gz and an overlong line are each one error naming the file (and line and byte
/// where there is one), in the JSONL reader and in the trainers that use it.
/// </summary>
public class StrictDecodingTests
{
    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    private const string Pair = "{\"prompt\":\"1+1=\",\"chosen\":\"2\",\"rejected\":\"3\"}";

    private const string Completion = "{\"prompt\":\"1+1=\",\"completion\":\"2\"}";

    /// <summary>56 good lines, then line 57: <paramref name="good"/> with its first value's first byte replaced by 0xFF (byte 11).</summary>
    private string InvalidUtf8OnLine57(string name, string good = Pair)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < 56; i++) bytes.AddRange(Encoding.UTF8.GetBytes(good + "\n"));
        var bad = Encoding.UTF8.GetBytes(good + "\n");
        bad[11] = 0xFF;
        bytes.AddRange(bad);
        string path = _files.Missing(name);
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    [Test]
    public void InvalidUtf8_NamesFileLineAndByteOffset()
    {
        string path = InvalidUtf8OnLine57("bad.jsonl");
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path).ToList())!;
        long offset = 56L * (Pair.Length + 1) + 11;
        Assert.That(e.Message, Is.EqualTo($"{path} line 57: invalid UTF-8 at byte 11 of the line (byte {offset:N0} of the file; byte 0xff)"));
        Assert.That(e.Line, Is.EqualTo(57));
    }

    [TestCase("sft")]
    [TestCase("reward")]
    [TestCase("dpo")]
    public void InvalidUtf8_StopsEveryTrainer_NamingLine57(string command)
    {
        string path = InvalidUtf8OnLine57("bad.jsonl", command == "sft" ? Completion : Pair);
        string[] model = command == "dpo" ? ["--init-from", TinyModel.Save(_files.Missing("m.safetensors"))] : ["--model", "byte-tiny"];
        var r = Cli.InProcess([command, "--data", path, .. model, "--steps", "1", "--threads", "1", "--out-dir", _files.Missing("out")]);
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines.Single(), Does.Contain("bad.jsonl line 57: invalid UTF-8 at byte 11"));
    }

    [Test]
    public void ByteOffsets_CountFromTheFileStart_ByteOrderMarkIncluded()
    {
        string path = _files.Missing("bom.jsonl");
        File.WriteAllBytes(path, [.. "\uFEFF{\"a\":\""u8, 0xFE, .. "\"}\n"u8]);
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path).ToList())!;
        Assert.That(e.Message, Is.EqualTo($"{path} line 1: invalid UTF-8 at byte 6 of the line (byte 9 of the file; byte 0xfe)"));
    }

    [Test]
    public void InvalidUtf8_InPlainText_NamesLineAndByte()
    {
        string txt = _files.Missing("bad.txt");
        File.WriteAllBytes(txt, [.. "ab\ncd"u8, 0xC3, (byte)'x']);
        Assert.That(Assert.Throws<DataFormatException>(() => StrictUtf8.ReadAllText(txt))!.Message,
            Is.EqualTo($"{txt} line 2: invalid UTF-8 at byte 5 of the file (byte 0xc3)"));
    }

    private string Gzip(string name, string text)
    {
        string path = _files.Missing(name);
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Optimal)) gz.Write(Encoding.UTF8.GetBytes(text));
        return path;
    }

    private static string Lines(int n) => string.Concat(Enumerable.Range(0, n).Select(i => Pair.Replace("1+1=", $"{i}+1=") + "\n"));

    [Test]
    public void GzipWithoutItsTrailer_IsAnErrorNamingTheFile()
    {
        string path = Gzip("cut.jsonl.gz", Lines(200));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path).ToList())!;
        Assert.That(e.Message, Does.StartWith($"{path}: is truncated or corrupt gzip"));
    }

    [Test]
    public void GzipWithABadCrc_IsAnErrorNamingTheFile()
    {
        string path = Gzip("crc.jsonl.gz", Lines(200));
        var bytes = File.ReadAllBytes(path);
        bytes[^8] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => FeedbackReader.Read(path))!;
        Assert.That(e.Message, Does.StartWith($"{path}: is "));
        Assert.That(e.Message, Does.Contain("CRC"));
    }

    [Test]
    public void PlainTextNamedGz_IsAnErrorNamingTheFile()
    {
        string path = _files.Write("plain.jsonl", Lines(3));
        File.Move(path, path + ".gz");
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path + ".gz"))!;
        Assert.That(e.Message, Is.EqualTo($"{path}.gz: is not gzip data: it starts with bytes 7b 22, not gzip's 1f 8b, though its name ends in .gz"));
    }

    [Test]
    public void IntactGzip_StillReadsWhole()
    {
        string path = Gzip("ok.jsonl.gz", Lines(500));
        Assert.That(JsonlReader.Read(path).Count(), Is.EqualTo(500));
    }

    [Test]
    public void Crc32_IsGzips()
    {
        Assert.That(Crc32.Update(0, "123456789"u8), Is.EqualTo(0xCBF43926u));
        Assert.That(Crc32.Update(Crc32.Update(0, "1234"u8), "56789"u8), Is.EqualTo(0xCBF43926u), "incremental");
    }

    /// <summary>A file whose line 2 is 50 MB.</summary>
    private string FiftyMegabyteLine()
    {
        string path = _files.Missing("long.jsonl");
        using var f = File.Create(path);
        f.Write("{\"prompt\":\"x\"}\n{\"text\":\""u8);
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)'a');
        for (int i = 0; i < 50; i++) f.Write(chunk);
        f.Write("\"}\n"u8);
        return path;
    }

    [Test]
    public void OverlongLine_FailsAtTheDefaultLimit()
    {
        string path = FiftyMegabyteLine();
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path).ToList())!;
        Assert.That(e.Message, Is.EqualTo($"{path} line 2: is longer than the limit of {JsonlReader.DefaultMaxLineBytes:N0} bytes (raise it with --max-line-bytes)"));
    }

    [Test]
    public void OverlongLine_CostsMemoryOfTheLimit_NotOfTheLine()
    {
        // A 50 MB line took 1.0–1.7 GB when it was read whole; with a 1 MiB limit the reader stops after about 2 MiB.
        string path = FiftyMegabyteLine();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<DataFormatException>(() => JsonlReader.Read(path, 1 << 20).ToList());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.LessThan(4L << 20), $"allocated {allocated:N0} bytes reading a 50 MB line");
    }

    [Test]
    public void LineLimit_IsAFlag()
    {
        string path = _files.Write("p.jsonl", Pair + "\n" + Pair.Replace("1+1=", new string('1', 3000)) + "\n");
        var r = Cli.InProcess("reward", "--data", path, "--max-line-bytes", "2048", "--steps", "1", "--out-dir", _files.Missing("out"));
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines.Single(), Does.Contain("p.jsonl line 2: is longer than the limit of 2,048 bytes"));
        Assert.That(JsonlReader.Read(path, 4096).Count(), Is.EqualTo(2));
        Assert.That(Cli.InProcess("reward", "--max-line-bytes", "10", "--dry-run").ErrorLines.Single(), Does.StartWith("error: --max-line-bytes: 10 is below the minimum 1024"));
    }
}
