namespace RlhfCore.Tests.Embedding;

/// <summary>
/// Builds native/ once per test run as the README's command does (cmake -S . -B build/native, then cmake
/// --build build/native, here limited to native/'s rlhf_native target), and hands out the paths of what it built. Without cmake or a C compiler the tests
/// that need it are ignored with the reason; a failing build fails them with the build's output.
/// </summary>
public static class NativeBuild
{
    private static readonly Lazy<(string? Skip, string? Failure)> s_build = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The build folder of the README's command.</summary>
    public static string BuildDir { get; } = Path.Combine(TestData.RepoRoot, "build", "native");

    /// <summary>The folder of librlhfcore.so and the managed engine.</summary>
    public static string LibDir => Path.Combine(BuildDir, "lib");

    /// <summary>The path of a built program (train_tiny, rlhf_error_paths, ...), after building once.</summary>
    public static string Program(string name)
    {
        Require();
        return Path.Combine(BuildDir, "bin", name);
    }

    /// <summary>Builds (once) and ignores or fails the calling test when that is impossible.</summary>
    public static void Require()
    {
        var (skip, failure) = s_build.Value;
        if (skip != null) Assert.Ignore(skip);
        if (failure != null) Assert.Fail(failure);
    }

    private static (string?, string?) Build()
    {
        string? cmake = NativeProcess.Find("cmake");
        if (cmake == null) return ("cmake is not on PATH: the native build cannot run here", null);
        if (NativeProcess.Find("cc") == null && NativeProcess.Find("gcc") == null)
            return ("no C compiler (cc or gcc) on PATH: the native build cannot run here", null);
        var timeout = TimeSpan.FromMinutes(5);
        var configure = NativeProcess.Run(cmake, ["-S", ".", "-B", BuildDir], timeout);
        if (configure.ExitCode != 0) return (null, "cmake configure failed:\n" + configure.Output);
        // Only native/'s targets: on a machine with a CUDA toolkit the default target also builds kernel fatbins.
        var build = NativeProcess.Run(cmake, ["--build", BuildDir, "--parallel", "2", "--target", "rlhf_native"], timeout);
        if (build.ExitCode != 0) return (null, "cmake --build failed:\n" + build.Output);
        return (null, null);
    }
}
