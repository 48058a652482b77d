// Uses the RlhfCore package as a .NET host would: trains a fresh byte-tiny model on one string for 20 SFT
// steps through the public API, samples from it, and checks that the GPU kernels travel inside the assembly.
// Prints the losses and the sample; exits 1 when the loss did not fall or the kernels are missing.
using RlhfCore;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training;
using RlhfCore.Training.Sft;

const string text = "A package consumer trains the engine it downloaded.";
var kernels = typeof(GptModel).Assembly.GetManifestResourceNames().Where(n => n.StartsWith("kernels/", StringComparison.Ordinal)).ToArray();
Console.WriteLine($"embedded kernels: {kernels.Length} ({string.Join(", ", kernels.Take(3))}, ...)");

using var backend = BackendFactory.Create("cpu", 2);
using var model = new GptModel(backend, GptConfig.Preset("byte-tiny"));
model.InitializeWeights(seed: 1);
var tokenizer = TokenizerFactory.Create("byte", null);
int[] ids = tokenizer.Encode(text);
int T = ids.Length - 1;
var batch = new SftBatch(1, T);
new PackedStreamBatcher(ids, batchSize: 1, seqLen: T, tokenizer.VocabSize, seed: 1, shuffle: false).Next(batch);
var step = new LmStep(model, 1, T);
using var adamW = new AdamW(model.Parameters, model.Gradients, new AdamWOptions(WeightDecay: 0));
double first = 0, last = 0;
for (int s = 0; s < 20; s++)
{
    model.ZeroGradients();
    last = step.Run(batch, backward: true);
    if (s == 0) first = last;
    adamW.Update(3e-3f);
    Console.WriteLine($"step {s} loss {last:F4}");
}
step.Activations.Dispose();

using var generator = new GptGenerator(model, 1, 8);
var sample = generator.Generate([ids[..8]], new SamplingOptions(MaxNewTokens: 24, Temperature: 0), new Rng(1))[0];
Console.WriteLine($"sample: {tokenizer.Decode(ids[..8])}|{tokenizer.Decode(sample.Tokens)}");

bool ok = kernels.Length > 0 && last < first / 2;
Console.WriteLine(ok ? "package consumer: ok" : "package consumer: FAILED");
return ok ? 0 : 1;
