using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Cuda;

/// <summary>Checks of the embedded PTX text that need no GPU.</summary>
public class PtxSourceTests
{
    /// <summary>
    /// ptxas from CUDA 13 (and the driver's JIT) stops at the first non-ASCII byte anywhere in a PTX file,
    /// comments included ("Unexpected non-ASCII character"), while CUDA 11.8's accepted it: seen on an H100.
    /// </summary>
    [Test]
    public void EveryPtxFileIsPureAscii()
    {
        var files = Directory.GetFiles(Path.Combine(TestData.RepoRoot, "kernels", "ptx"), "*.ptx");
        Assert.That(files, Is.Not.Empty);
        foreach (var path in files)
        {
            string name = Path.GetFileName(path);
            string text = KernelSources.Ptx(name);
            int bad = text.IndexOf(text.FirstOrDefault(c => c > 127));
            Assert.That(text.All(c => c <= 127), $"{name}: non-ASCII character at offset {bad} ('{(bad >= 0 ? text[bad] : ' ')}')");
        }
    }
}
