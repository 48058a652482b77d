namespace RlhfCore.Tests.Embedding;

/// <summary>
/// The NuGet package: `dotnet pack` of src/RlhfCore into a folder feed, then tests/PackageConsumer built
/// against that package alone and run. Restore sees two sources, the fresh feed and this machine's NuGet
/// cache (for the library's own dependencies), and an empty packages folder, so it uses no network and
/// never an older copy of RlhfCore.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class PackageConsumerTests
{
    [Test]
    public void PackedPackage_HoldsDocsAndReadme_AndBuildsARunningConsumer()
    {
        string? dotnet = NativeProcess.Find("dotnet");
        if (dotnet == null) Assert.Ignore("dotnet is not on PATH");
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string work = Path.Combine(Path.GetTempPath(), "rlhfcore-package-" + Guid.NewGuid().ToString("N"));
        try
        {
            string feed = Path.Combine(work, "feed");
            var limit = TimeSpan.FromMinutes(4);
            var pack = NativeProcess.Run(dotnet!, ["pack", "src/RlhfCore/RlhfCore.csproj", "-c", "Release", "-o", feed, "--nologo"], limit);
            Assert.That(pack.ExitCode, Is.Zero, pack.Output);
            string package = Directory.GetFiles(feed, "RlhfCore.*.nupkg").Single();
            string version = Path.GetFileNameWithoutExtension(package)["RlhfCore.".Length..];
            using (var zip = System.IO.Compression.ZipFile.OpenRead(package))
            {
                var names = zip.Entries.Select(e => e.FullName).ToArray();
                Assert.That(names, Does.Contain("lib/net10.0/RlhfCore.dll").And.Contain("lib/net10.0/RlhfCore.xml").And.Contain("README.md"));
            }

            string config = Path.Combine(work, "nuget.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="rlhfcore-local" value="{feed}" />
                    <add key="machine-cache" value="{cache}" />
                  </packageSources>
                </configuration>
                """);
            var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work, "packages") };
            var build = NativeProcess.Run(dotnet!, ["build", "tests/PackageConsumer/PackageConsumer.csproj", "-c", "Release", "--nologo",
                "--configfile", config, "--artifacts-path", Path.Combine(work, "artifacts"), $"-p:RlhfCoreVersion={version}"], limit, environment: env);
            Assert.That(build.ExitCode, Is.Zero, build.Output);
            string exe = Path.Combine(work, "artifacts", "bin", "PackageConsumer", "release", "PackageConsumer");
            var run = NativeProcess.Run(exe, [], TimeSpan.FromMinutes(2));
            Assert.That(run.ExitCode, Is.Zero, run.Output);
            Assert.That(run.Stdout, Does.Contain("package consumer: ok"));
            Assert.That(Directory.Exists(Path.Combine(work, "packages", "rlhfcore", version)), "the consumer must have restored RlhfCore from the fresh feed");
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }
}
