using System.Buffers.Binary;
using RlhfCore.IO;

namespace RlhfCore.Tests.IO;

/// <summary>
/// Random corruptions of a valid file must give a clean load or the documented exception: never another
/// exception type, and never an allocation sized from an unchecked length.
/// </summary>
public class SafetensorsFuzzTests
{
    [Test]
    public void RandomMutations_LoadCleanlyOrThrowSafetensorsException()
    {
        using var dir = new TempDir();
        string valid = dir.File("valid.safetensors");
        SafetensorsWriter.Write(valid,
        [
            SafetensorsTensor.FromFloat32("a.weight", [3, 4], Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray()),
            SafetensorsTensor.FromBytes("b", SafetensorsDType.F16, [2], new byte[4]),
            SafetensorsTensor.FromInt32("c", [2], [1, 2]),
            SafetensorsTensor.FromFloat32("z", [0], []),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        byte[] original = File.ReadAllBytes(valid);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(original);

        var rng = new Random(1234);
        string path = dir.File("mutant.safetensors");
        int loaded = 0, rejected = 0;
        for (int iter = 0; iter < 2000; iter++)
        {
            byte[] bytes = Mutate(original, headerLength, rng);
            File.WriteAllBytes(path, bytes);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var f = SafetensorsFile.Open(path);
                foreach (var e in f.Entries)
                {
                    if (e.DType is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F64) f.ReadFloat32(e.Name);
                    else f.ReadBytes(e.Name);
                }
                loaded++;
            }
            catch (SafetensorsException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {iter} threw {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            Assert.That(allocated, Is.LessThan(1 << 20), $"mutation {iter} allocated {allocated} bytes for a {bytes.Length}-byte file");
        }
        // Both outcomes must actually occur, or the mutations are not exercising the reader.
        Assert.That(loaded, Is.GreaterThan(10));
        Assert.That(rejected, Is.GreaterThan(500));
    }

    private static byte[] Mutate(byte[] original, ulong headerLength, Random rng)
    {
        byte[] b = (byte[])original.Clone();
        switch (rng.Next(5))
        {
            case 0: // flip a few bytes anywhere
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1: // overwrite a header byte with a JSON-significant character
                const string chars = "{}[]\",:0123456789-. e";
                b[8 + rng.Next((int)headerLength)] = (byte)chars[rng.Next(chars.Length)];
                return b;
            case 2: // truncate
                return b[..rng.Next(b.Length)];
            case 3: // change the header length: small nudges and wild values
                ulong n = rng.Next(3) switch
                {
                    0 => (ulong)((long)headerLength + rng.Next(-16, 17)),
                    1 => (ulong)rng.NextInt64(),
                    _ => 1UL << rng.Next(64),
                };
                BinaryPrimitives.WriteUInt64LittleEndian(b, n);
                return b;
            default: // append bytes
                return [.. b, .. new byte[rng.Next(1, 16)]];
        }
    }
}
