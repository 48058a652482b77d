namespace RlhfCore.Tests.Embedding;

/// <summary>
/// The C test programs in native/tests, one NUnit case per program case: rlhf_error_paths (every misuse
/// gives a status and a message, never a crash), rlhf_api_checks (what the C API computes is what the engine
/// computes) and rlhf_leak_check (100 create/destroy cycles keep RSS and threads bounded).
/// </summary>
[TestFixture, NonParallelizable]
public sealed class NativeProgramTests
{
    private static readonly string[] ErrorCases =
    [
        "bad_managed_dir", "before_init", "second_shutdown", "bad_handle", "null_pointers", "wrong_shapes", "corrupt_checkpoint",
        "unknown_names", "buffer_too_small", "non_finite", "destroy_order", "errors_per_thread",
    ];

    private static readonly string[] ApiCases = ["save_load", "forward_and_sft", "reward", "dpo", "generate", "buffers", "gpt2_tokenizer", "hf_checkpoint"];

    [TestCaseSource(nameof(ErrorCases))]
    public void ErrorPath_GivesStatusAndMessage(string name) => RunCase("rlhf_error_paths", name);

    [TestCaseSource(nameof(ApiCases))]
    public void ApiCheck(string name) => RunCase("rlhf_api_checks", name);

    [TestCase("rlhf_error_paths")]
    [TestCase("rlhf_api_checks")]
    public void CaseLists_NameEveryCaseOfTheProgram(string program)
    {
        var run = NativeProcess.Run(NativeBuild.Program(program), ["list"], TimeSpan.FromSeconds(30));
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        var listed = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(listed, Is.EqualTo(program == "rlhf_error_paths" ? ErrorCases : ApiCases), "a case of the program has no NUnit case here");
    }

    [Test]
    public void LeakCheck_HundredCreateDestroyCycles_KeepRssAndThreadsBounded()
    {
        var run = NativeProcess.Run(NativeBuild.Program("rlhf_leak_check"), ["100"], TimeSpan.FromMinutes(3));
        TestContext.Out.WriteLine(run.Output);
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Stdout, Does.Contain("after 100 cycles"));
    }

    private static string? SharedPath(string relative) =>
        TestData.Root is { } root && File.Exists(Path.Combine(root, relative)) ? Path.Combine(root, relative) : null;

    private static void RunCase(string program, string name)
    {
        // The shared-data cases skip (and say so) when their file is absent.
        var environment = new Dictionary<string, string>();
        string? tokenizer = SharedPath("gpt2-tokenizer/vocab.json"), checkpoint = SharedPath("gpt2-tiny-random/model.safetensors");
        if (tokenizer != null) environment["RLHF_GPT2_TOKENIZER_DIR"] = Path.GetDirectoryName(tokenizer)!;
        if (checkpoint != null) environment["RLHF_HF_CHECKPOINT"] = checkpoint;
        var run = NativeProcess.Run(NativeBuild.Program(program), [name], TimeSpan.FromMinutes(2), environment: environment);
        if (run.Stdout.StartsWith($"skip {name}:", StringComparison.Ordinal)) Assert.Ignore(run.Stdout.Trim());
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        Assert.That(run.Stdout, Is.EqualTo($"ok {name}\n"), run.Output);
    }
}
