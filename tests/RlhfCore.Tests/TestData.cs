namespace RlhfCore.Tests;

/// <summary>
/// Locates the shared test data (<c>../shared/data</c> beside the repository, or RLHF_TEST_DATA).
/// Tests that need it call <see cref="Require"/>, which marks the test ignored with the reason when absent.
/// </summary>
public static class TestData
{
    /// <summary>The shared data folder, or null when it cannot be found.</summary>
    public static string? Root { get; } = Find();

    /// <summary>The repository root (the folder holding RlhfCore.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RlhfCore.sln"))) return dir.FullName;
        throw new InvalidOperationException("tests must run inside the repository (no RlhfCore.sln above " + AppContext.BaseDirectory + ")");
    }

    private static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("RLHF_TEST_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Full path of <paramref name="relative"/> under the data folder; ignores the test when missing.</summary>
    public static string Require(string relative)
    {
        if (Root == null) Assert.Ignore("shared test data not found (expected ../shared/data beside the repository, or RLHF_TEST_DATA)");
        var path = Path.Combine(Root!, relative);
        if (!File.Exists(path) && !Directory.Exists(path)) Assert.Ignore($"shared test data file missing: {path}");
        return path;
    }
}
