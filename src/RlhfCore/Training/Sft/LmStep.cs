using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Training.Sft;

/// <summary>
/// The language-modelling step shared by SFT, evaluation and benchmarks: upload a host batch, run the
/// model, the fused softmax + cross-entropy (which writes dlogits in place), and optionally backward.
/// The per-token loss weights are mask / (counted tokens × micro-batches), so gradient accumulation over
/// micro-batches gives the mean over micro-batches of each one's token-mean loss.
/// </summary>
public sealed class LmStep
{
    private readonly GptModel _model;
    private readonly IBackend _be;
    private readonly float[] _weights;
    private readonly float[] _losses;

    /// <summary>Activations for this step's [B, T].</summary>
    public GptActivations Activations { get; }

    /// <summary>A step for batches of [B, T] on <paramref name="model"/>; allocates once.</summary>
    public LmStep(GptModel model, int B, int T)
    {
        _model = model;
        _be = model.Backend;
        Activations = new GptActivations(_be, model.Config, B, T);
        _weights = new float[B * T];
        _losses = new float[B * T];
    }

    /// <summary>
    /// Runs forward (and backward when <paramref name="backward"/>) on <paramref name="batch"/>, and
    /// returns its mean loss over counted tokens (NaN when no token counts).
    /// </summary>
    public double Run(SftBatch batch, bool backward, int microBatches = 1)
    {
        var a = Activations;
        int B = batch.BatchSize, T = batch.SeqLen, N = B * T, V = _model.Config.VocabSize;
        int counted = batch.LossTokenCount;
        for (int i = 0; i < N; i++) _weights[i] = counted == 0 ? 0f : batch.LossMask[i] / ((float)counted * microBatches);
        _be.Upload<int>(a.Tokens.Head(N), batch.Tokens);
        _be.Upload<int>(a.Positions.Head(N), batch.Positions);
        _be.Upload<int>(a.KeyMask.Head(N), batch.AttentionMask);
        _be.Upload<int>(a.Targets.Head(N), batch.Targets);
        _be.Upload<float>(a.LossWeights.Head(N), _weights);
        _model.Forward(a, B, T);
        Tensor logits = GptModel.Rows(a.Logits, N, V);
        _be.CrossEntropyForwardBackward(a.Losses.Head(N), backward ? logits : Tensor.None, logits, a.Targets.Head(N), a.LossWeights.Head(N), N, V);
        _be.Download<float>(a.Losses.Head(N), _losses);
        if (backward) _model.Backward(a, B, T, new BackwardSources(Logits: true));
        if (counted == 0) return double.NaN;
        double sum = 0;
        for (int i = 0; i < N; i++) if (batch.LossMask[i] != 0) sum += _losses[i];
        return sum / counted;
    }

}
