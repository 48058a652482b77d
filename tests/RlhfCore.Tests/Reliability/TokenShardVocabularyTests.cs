using RlhfCore.Backends.Cpu;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tests.IO;
using static RlhfCore.Tests.Reliability.RlhfProcess;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Issue 12, finding 7 (vocabularies): an llm.c token shard is already ids, so it trains without a tokenizer on any
/// model whose vocabulary covers them (an llm.c byte model of vocabulary 256 was refused because "the byte tokenizer
/// has 260 ids"); and a tokenizer that does not match the model is one error at load time, before any training or
/// sampling, naming both sizes and the flags.
/// </summary>
[Platform(Exclude = "Win", Reason = "runs the CLI as a Unix child process")]
public class TokenShardVocabularyTests
{
    [Test]
    public void LlmcModelOfVocabulary256_TrainsOnAnLlmcTokenShard()
    {
        using var dir = new TempDir();
        string model = LlmcModel(dir, vocab: 256);
        string shard = Shard(dir.Path);
        var (code, output) = Run("sft", "--data", shard, "--init-from", model, "--steps", "3", "--batch", "2", "--seq-len", "16",
            "--threads", "1", "--eval-fraction", "0", "--out-dir", dir.File("run"));
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(File.Exists(dir.File("run/model.safetensors")));
    }

    [Test]
    public void TokenizerThatDoesNotMatchTheModel_IsRefusedAtLoad_NamingBothSizesAndTheFlags()
    {
        using var dir = new TempDir();
        string model = LlmcModel(dir, vocab: 300);
        string data = dir.File("data.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 20).Select(i => $"{{\"prompt\":\"{i}+1=\",\"completion\":\"{i + 1}\"}}"));

        var (code, output) = Run("sft", "--data", data, "--init-from", model, "--steps", "2", "--batch", "2", "--seq-len", "16",
            "--threads", "1", "--out-dir", dir.File("run"));
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("260").And.Contain("300").And.Contain("--tokenizer").And.Contain("--init-from"));
        Assert.That(Directory.Exists(dir.File("run")), Is.False, "refused before the run wrote anything");

        (code, output) = Run("generate", "--model", model, "--prompt", "ab", "--max-new-tokens", "4", "--threads", "1");
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("260").And.Contain("300").And.Contain("--tokenizer").And.Contain("--model"));
    }

    private static string LlmcModel(TempDir dir, int vocab)
    {
        using var be = new CpuBackend(1);
        var config = new GptConfig(vocab, 32, 1, 1, 16);
        using var model = new GptModel(be, config);
        model.InitializeWeights(5);
        string path = dir.File($"vocab{vocab}.bin");
        LlmcCheckpoint.Save(path, config, model.Parameters);
        return path;
    }
}
