using RlhfCore.Backends;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Training.Reward;

/// <summary>
/// One reward-model pass over a <see cref="RewardBatch"/>: upload, forward without the LM head, read the
/// B scores (an explicit host read of a small vector), the loss and its gradient on the host in float64,
/// the gradient uploaded into the reward head's output gradient, and backward from it. Allocates once.
/// </summary>
public sealed class RewardStep : IDisposable
{
    private readonly GptModel _model;
    private readonly IBackend _be;
    private readonly float[] _hostScores;
    private readonly double[] _scores;
    private readonly double[] _grad;
    private readonly float[] _hostGrad;

    /// <summary>Activations laid out for the largest batch this step runs.</summary>
    public GptActivations Activations { get; }

    /// <summary>Prepares passes of <paramref name="model"/> (which must have a reward head) over up to <paramref name="maxRows"/> rows of <paramref name="seqLen"/> positions.</summary>
    public RewardStep(GptModel model, int maxRows, int seqLen)
    {
        if (!model.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException("a reward model needs the reward head (ModelHeads.Reward)", nameof(model));
        _model = model;
        _be = model.Backend;
        Activations = new GptActivations(_be, model.Config, maxRows, seqLen);
        _hostScores = new float[maxRows];
        _scores = new double[maxRows];
        _grad = new double[maxRows];
        _hostGrad = new float[maxRows];
    }

    /// <summary>The scores of the batch's rows (valid until the next call).</summary>
    public ReadOnlySpan<double> Score(RewardBatch batch)
    {
        int B = batch.Rows;
        batch.Upload(_be, Activations);
        _model.Forward(Activations, B, Activations.T, computeLogits: false);
        _be.Download<float>(Activations.Rewards.Head(B), _hostScores.AsSpan(0, B));
        for (int i = 0; i < B; i++) _scores[i] = _hostScores[i];
        return _scores.AsSpan(0, B);
    }

    /// <summary>
    /// Runs the trunk over the batch and copies each row's final hidden state at its last real token (what the
    /// reward head reads) into <paramref name="hidden"/> ([rows × C], row-major); returns the head's scores too.
    /// </summary>
    public ReadOnlySpan<double> Features(RewardBatch batch, Span<float> hidden)
    {
        var scores = Score(batch);
        int n = batch.Rows * _model.Config.Channels;
        _be.Download<float>(Activations.RewardHidden.Head(n), hidden[..n]);
        return scores;
    }

    /// <summary>
    /// Scores the batch and returns its mean loss (centering included). With <paramref name="backward"/>,
    /// accumulates the gradient of <paramref name="gradScale"/> × loss into the model's gradients, unless the
    /// loss is not finite (the trainer then skips the step). Adds the batch to <paramref name="metrics"/>.
    /// </summary>
    public double Run(RewardBatch batch, RewardLoss loss, double centering, bool backward, double gradScale, RewardMetrics metrics)
    {
        var scores = Score(batch);
        var grad = _grad.AsSpan(0, batch.Rows);
        double value = Objective(loss, centering, scores, batch, grad);
        metrics.Add(loss, value, scores, batch);
        if (backward && double.IsFinite(value))
        {
            for (int i = 0; i < batch.Rows; i++) _hostGrad[i] = (float)(grad[i] * gradScale);
            _be.Upload<float>(Activations.DRewards.Head(batch.Rows), _hostGrad.AsSpan(0, batch.Rows));
            _model.Backward(Activations, batch.Rows, Activations.T, new BackwardSources(Logits: false, Rewards: true));
        }
        return value;
    }

    /// <summary>The loss of <paramref name="kind"/> plus centering, and its gradient in <paramref name="grad"/>.</summary>
    public static double Objective(RewardLoss kind, double centering, ReadOnlySpan<double> scores, RewardBatch batch, Span<double> grad)
    {
        int G = batch.Groups;
        var starts = batch.GroupStart.AsSpan(0, G);
        var sizes = batch.GroupSize.AsSpan(0, G);
        double value = kind switch
        {
            RewardLoss.BradleyTerry => RewardLosses.BradleyTerry(scores, batch.Margins.AsSpan(0, G), grad),
            RewardLoss.PlackettLuce => RewardLosses.PlackettLuce(scores, starts, sizes, grad),
            RewardLoss.Regression => RewardLosses.Regression(scores, batch.Targets.AsSpan(0, G), grad),
            RewardLoss.Logistic => RewardLosses.Logistic(scores, batch.Targets.AsSpan(0, G), grad),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        if (centering > 0) value += RewardLosses.Centering(scores, starts, sizes, centering, grad);
        return value;
    }

    /// <inheritdoc/>
    public void Dispose() => Activations.Dispose();
}
