using RlhfCore.Backends;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Training.Dpo;

/// <summary>
/// Summed completion log-probabilities of a right-padded batch of <c>[prompt | completion]</c> rows under a
/// model, and their backward. Both directions use the fused cross-entropy kernel, whose per-token loss is
/// <c>−log p(target)</c> and whose gradient <c>w·(p − onehot)</c> with <c>w = −∂L/∂logp</c> is exactly
/// <c>∂L/∂logp · (onehot − p)</c> — the log-prob backward — written in place into the logits, which is
/// where <see cref="GptModel.Backward"/> reads dlogits. So no second [N, V] buffer is needed, and targets
/// of −1 (prompt and padding positions) give zero loss and zero gradient rows.
/// </summary>
public sealed class SequenceLogProbs : IDisposable
{
    private readonly IBackend _be;
    private readonly int _vocab;
    private readonly float[] _tokenLoss;
    private readonly float[] _weights;
    private readonly int[] _targets;
    private int _rows;

    /// <summary>The activations every model run here shares (inputs stay put across models).</summary>
    public GptActivations Activations { get; }
    /// <summary>Inputs per row.</summary>
    public int SeqLen { get; }

    /// <summary>Buffers for up to <paramref name="rows"/> rows of <paramref name="seqLen"/> inputs of models shaped <paramref name="config"/>.</summary>
    public SequenceLogProbs(IBackend backend, GptConfig config, int rows, int seqLen)
    {
        _be = backend;
        _vocab = config.VocabSize;
        SeqLen = seqLen;
        Activations = new GptActivations(backend, config, rows, seqLen);
        _tokenLoss = new float[rows * seqLen];
        _weights = new float[rows * seqLen];
        _targets = new int[rows * seqLen];
    }

    /// <summary>Uploads the inputs of <paramref name="batch"/>; every model run until the next upload reads them.</summary>
    public void Upload(DpoBatch batch)
    {
        if (batch.SeqLen != SeqLen) throw new ArgumentException($"batch rows have {batch.SeqLen} inputs; these buffers hold {SeqLen}");
        var a = Activations;
        _rows = batch.Rows;
        int n = _rows * SeqLen;
        _be.Upload<int>(a.Tokens.Head(n), batch.Tokens.AsSpan(0, n));
        _be.Upload<int>(a.Positions.Head(n), batch.Positions.AsSpan(0, n));
        _be.Upload<int>(a.KeyMask.Head(n), batch.KeyMask.AsSpan(0, n));
        _be.Upload<int>(a.Targets.Head(n), batch.Targets.AsSpan(0, n));
        _be.Upload<int>(a.LastRows.Head(_rows), batch.LastRows.AsSpan(0, _rows));
        batch.Targets.AsSpan(0, n).CopyTo(_targets);
    }

    /// <summary>
    /// Runs <paramref name="model"/> on the uploaded rows and writes each row's summed completion log-prob to
    /// <paramref name="logp"/> (per-token values summed on the host in float64, in order).
    /// </summary>
    public void Forward(GptModel model, Span<double> logp)
    {
        var a = Activations;
        int T = SeqLen, N = _rows * T;
        model.Forward(a, _rows, T);
        _be.CrossEntropyForwardBackward(a.Losses.Head(N), Tensor.None, Logits(N), a.Targets.Head(N), Tensor.None, N, _vocab);
        _be.Download<float>(a.Losses.Head(N), _tokenLoss.AsSpan(0, N));
        for (int r = 0; r < _rows; r++)
        {
            double sum = 0;
            for (int t = 0; t < T; t++) sum -= _tokenLoss[r * T + t];
            logp[r] = sum;
        }
    }

    /// <summary>
    /// Backpropagates <paramref name="dlogp"/> (∂loss/∂ each row's summed log-prob) through
    /// <paramref name="model"/>, accumulating into its gradients. Must follow <see cref="Forward"/> of the same
    /// model, whose logits it overwrites with dlogits.
    /// </summary>
    public void Backward(GptModel model, ReadOnlySpan<double> dlogp)
    {
        var a = Activations;
        int T = SeqLen, N = _rows * T;
        for (int n = 0; n < N; n++) _weights[n] = _targets[n] >= 0 ? (float)-dlogp[n / T] : 0f;
        _be.Upload<float>(a.LossWeights.Head(N), _weights.AsSpan(0, N));
        Tensor logits = Logits(N);
        _be.CrossEntropyForwardBackward(a.Losses.Head(N), logits, logits, a.Targets.Head(N), a.LossWeights.Head(N), N, _vocab);
        model.Backward(a, _rows, T, new BackwardSources(Logits: true));
    }

    private Tensor Logits(int N) => GptModel.Rows(Activations.Logits, N, _vocab);

    /// <inheritdoc/>
    public void Dispose() => Activations.Dispose();
}
