using RlhfCore.IO;

namespace RlhfCore.Tests.IO;

public class SafetensorsAtomicWriteTests
{
    [Test]
    public void FailingTensorData_LeavesExistingFileIntactAndNoTempFiles()
    {
        using var dir = new TempDir();
        string path = dir.File("ckpt.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsTensor.FromFloat32("x", [2], [1f, 2f])]);
        byte[] before = File.ReadAllBytes(path);

        var failing = new SafetensorsTensor("y", SafetensorsDType.F32, [1000], s =>
        {
            s.Write(new byte[1000]); // part of the data reaches the stream, then the source fails
            throw new InvalidOperationException("device lost");
        });
        var ex = Assert.Throws<InvalidOperationException>(() =>
            SafetensorsWriter.Write(path, [SafetensorsTensor.FromFloat32("x", [2], [3f, 4f]), failing]));
        Assert.That(ex!.Message, Is.EqualTo("device lost"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void TensorWritingWrongByteCount_IsRejectedAndLeavesExistingFileIntact()
    {
        using var dir = new TempDir();
        string path = dir.File("ckpt.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsTensor.FromFloat32("x", [2], [1f, 2f])]);
        byte[] before = File.ReadAllBytes(path);
        var ex = Assert.Throws<SafetensorsException>(() =>
            SafetensorsWriter.Write(path, [new SafetensorsTensor("x", SafetensorsDType.F32, [2], s => s.Write(new byte[4]))]));
        Assert.That(ex!.Message, Does.Contain("'x'").And.Contain("wrote 4 bytes").And.Contain("need 8"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(1));
    }

    [Test]
    public void SuccessfulWrite_ReplacesTheFile()
    {
        using var dir = new TempDir();
        string path = dir.File("ckpt.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsTensor.FromFloat32("x", [2], [1f, 2f])]);
        SafetensorsWriter.Write(path, [SafetensorsTensor.FromFloat32("x", [2], [5f, 6f])]);
        using var f = SafetensorsFile.Open(path);
        Assert.That(f.ReadFloat32("x"), Is.EqualTo(new[] { 5f, 6f }));
    }
}
