using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Rl;

/// <summary>Settings of <see cref="PolicyLoss"/>.</summary>
/// <param name="ClipRange">Policy ratio clip ε.</param>
/// <param name="ClipRangeValue">Value clip around the rollout's values.</param>
/// <param name="VfCoef">Value-loss coefficient (ignored without a value head).</param>
/// <param name="EntropyCoef">Entropy bonus coefficient.</param>
/// <param name="KlInLoss">Add β·KL(π ‖ π_ref) per token to the loss.</param>
/// <param name="Estimator">KL estimator of the loss term.</param>
/// <param name="Temperature">Logits are divided by it before every log-probability (as when sampling).</param>
/// <param name="Clip">The ratio clips (DAPO's clip-low/clip-high, the dual clip); null means ±<paramref name="ClipRange"/> without the dual clip.</param>
/// <param name="Aggregation">How per-token terms become the minibatch loss; token-mean is TRL's masked mean.</param>
/// <param name="MaxLength">The max generation length: seq-mean-token-sum-norm's constant (ignored by the other modes).</param>
/// <param name="SequenceLevel">GSPO's sequence-level ratio instead of the per-token one; advantages must be constant along each sequence.</param>
public sealed record PolicyLossSettings(float ClipRange, float ClipRangeValue, float VfCoef, float EntropyCoef, bool KlInLoss,
    KlEstimator Estimator, float Temperature, PolicyClip? Clip = null, LossAggregation Aggregation = LossAggregation.TokenMean,
    int MaxLength = 0, bool SequenceLevel = false)
{
    /// <summary>The clips in force: <see cref="Clip"/>, or the symmetric <see cref="ClipRange"/>.</summary>
    public PolicyClip Clips => Clip ?? PolicyClip.Symmetric(ClipRange);
}

/// <summary>One minibatch's per-token inputs, each [rows·T], in the order of the rows uploaded.</summary>
/// <param name="Mask">1 on action rows.</param>
/// <param name="OldLogp">Log-probabilities at sampling time.</param>
/// <param name="RefLogp">Reference log-probabilities (for the KL loss term).</param>
/// <param name="Advantages">Advantages.</param>
/// <param name="Returns">Value targets.</param>
/// <param name="OldValues">Values at sampling time (the centre of the value clip).</param>
public sealed record PolicyLossInputs(float[] Mask, float[] OldLogp, float[] RefLogp, float[] Advantages, float[] Returns, float[] OldValues);

/// <summary>
/// One minibatch's numbers (token means over its action rows), TRL's statistics; <paramref name="DualClipFrac"/>
/// is verl's pg_clipfrac_lower (tokens where the dual clip bounds the loss).
/// </summary>
public readonly record struct PolicyLossStats(double Loss, double PolicyLoss, double ValueLoss, double KlLoss, double Entropy, double ClipFrac,
    double ValueClipFrac, double ApproxKl, double Ratio, double DualClipFrac);

/// <summary>
/// The PPO objective on one minibatch, written once for every method:
/// L = Σₙ wₙ·[pgₙ − c_H·Hₙ] + c_V·½Σₙ wₙ·max((v−R)², (clamp(v, v_old ± ε_V)−R)²) + β·Σₙ wₙ·KLₙ,
/// with wₙ the <see cref="LossAggregation"/> weights (token-mean: mask/(action rows in the minibatch), TRL's masked
/// means); the reported statistics are token means whatever the aggregation. The policy term and entropy bonus
/// come from the fused kernel <c>PpoLossForwardBackward</c>, which writes dlogits (with
/// <see cref="PolicyLossSettings.SequenceLevel"/>, GSPO's <see cref="SequenceRatioLoss"/> instead, without an entropy
/// bonus, into the separate dlogits buffer); the value loss and its
/// dvalues are computed on the host from the downloaded values (one float per token) and uploaded into
/// <see cref="GptActivations.DValues"/>; the KL term's gradient is added through
/// <c>TokenLogProbsBackward</c>, which needs the logits intact, so then (as for GSPO) the kernel writes into a separate
/// dlogits buffer that is copied over the logits afterwards. Then one backward pass from both heads.
/// </summary>
public sealed class PolicyLoss : IDisposable
{
    private readonly GptModel _model;
    private readonly GptActivations _acts;
    private readonly PolicyLossSettings _s;
    private readonly TensorArena _arena;
    private readonly int _N, _V;
    private readonly float[] _losses, _logp, _entropy, _clipped, _values, _weights, _lossWeights, _dvalues, _dlogpKl;
    private readonly double[] _sequenceAdvantages;
    private readonly SequenceRatioLoss? _sequence;
    private readonly bool _separateDlogits;
    // Views of the activations over all N rows, made once: a Slice allocates its shape, and a minibatch must not allocate.
    private readonly Tensor _lossWeightsN, _lossesN, _targetsN, _valuesN, _dvaluesN, _logitsNV;

    /// <summary>A loss over minibatches laid out like <paramref name="acts"/> (all its rows).</summary>
    public PolicyLoss(GptModel model, GptActivations acts, PolicyLossSettings settings)
    {
        _model = model;
        _acts = acts;
        _s = settings;
        _N = acts.B * acts.T;
        _V = model.Config.VocabSize;
        (_lossWeightsN, _lossesN, _targetsN) = (acts.LossWeights.Slice(0, _N), acts.Losses.Slice(0, _N), acts.Targets.Slice(0, _N));
        (_valuesN, _dvaluesN) = (acts.Values.Slice(0, _N), acts.DValues.Slice(0, _N));
        _logitsNV = acts.Logits.Slice(0, (long)_N * _V, [_N, _V]);
        var specs = new List<TensorSpec>
        {
            new("old_logp", DType.F32, [_N]), new("advantages", DType.F32, [_N]), new("logp", DType.F32, [_N]),
            new("entropy", DType.F32, [_N]), new("clipped", DType.F32, [_N]), new("dlogp_kl", DType.F32, [_N]),
        };
        // An explicit clip is checked; the symmetric ClipRange keeps its own bounds (A2C's never-binding clip is huge).
        settings.Clip?.Validate();
        if (settings.SequenceLevel && settings.EntropyCoef != 0)
            throw new ArgumentException("--importance-level sequence has no entropy bonus (GSPO's loss is sequence-level): use --entropy-coef 0");
        if (settings.Aggregation == LossAggregation.SeqMeanTokenSumNorm && settings.MaxLength <= 0)
            throw new ArgumentException("--loss-aggregation seq-mean-token-sum-norm needs the max generation length");
        _separateDlogits = settings.KlInLoss || settings.SequenceLevel;
        if (_separateDlogits) specs.Add(new("dlogits", DType.F32, [_N, _V]));
        _arena = new TensorArena(model.Backend, specs);
        _losses = new float[_N]; _logp = new float[_N]; _entropy = new float[_N]; _clipped = new float[_N];
        _values = new float[_N]; _weights = new float[_N]; _lossWeights = new float[_N]; _dvalues = new float[_N]; _dlogpKl = new float[_N];
        _sequenceAdvantages = new double[acts.B];
        if (settings.SequenceLevel) _sequence = new SequenceRatioLoss(model.Backend, acts.B, acts.T);
    }

    /// <summary>The per-token log-probabilities of the last <see cref="Run"/> (after the temperature).</summary>
    public ReadOnlySpan<float> Logp => _logp;

    /// <summary>GSPO's sequence ratios of the last <see cref="Run"/> (empty at the token level).</summary>
    public ReadOnlySpan<double> SequenceRatios => _sequence != null ? _sequence.Ratios : [];

    /// <summary>Whether the value loss is part of the objective (the model has a value head and c_V &gt; 0).</summary>
    public bool TrainsValue => (_model.Heads & ModelHeads.Value) != 0 && _s.VfCoef > 0; // not HasFlag: it boxes in tier-0 code

    /// <summary>
    /// Runs forward on the minibatch already uploaded into the activations (see <see cref="RolloutBatch.Upload"/>),
    /// computes the loss and, when <paramref name="backward"/>, accumulates its gradient into the model's gradients.
    /// <paramref name="klCoef"/> is β of the KL loss term.
    /// </summary>
    public PolicyLossStats Run(PolicyLossInputs x, double klCoef, bool backward)
    {
        var be = _model.Backend;
        int N = _N, V = _V, B = _acts.B, T = _acts.T;
        double count = 0;
        foreach (float m in x.Mask) count += m;
        for (int n = 0; n < N; n++) _weights[n] = count > 0 ? (float)(x.Mask[n] / count) : 0f;
        // Token-mean keeps the statistics' weights exactly (so default runs are bit-identical to before the option existed).
        float[] lw = _weights;
        if (_s.Aggregation != LossAggregation.TokenMean)
        {
            LossAggregationWeights.Fill(x.Mask, B, _s.Aggregation, _s.MaxLength, _lossWeights);
            lw = _lossWeights;
        }

        be.Upload<float>(_lossWeightsN, lw);
        be.Upload<float>(_arena["old_logp"], x.OldLogp);
        be.Upload<float>(_arena["advantages"], x.Advantages);
        _model.Forward(_acts, B, T);
        Tensor logits = _logitsNV;
        float invTemp = 1f / _s.Temperature;
        if (_s.Temperature != 1f) be.Scale(logits, invTemp, (long)N * V);
        Tensor dlogits = _separateDlogits ? _arena["dlogits"] : logits;
        var clip = _s.Clips;
        double pgLoss = 0, entropy = 0, entropyLoss = 0, clipFrac = 0, dualClipFrac = 0, approxKl = 0, ratio = 0, klLoss = 0;
        if (_sequence != null)
        {
            // GSPO: the sequence's advantage is that of any of its action rows (constant along it).
            for (int b = 0; b < B; b++)
            {
                _sequenceAdvantages[b] = 0;
                for (int n = b * T; n < (b + 1) * T; n++)
                    if (x.Mask[n] != 0) { _sequenceAdvantages[b] = x.Advantages[n]; break; }
            }
            var seq = _sequence.Run(dlogits, logits, _targetsN, V, x.OldLogp, x.Mask, lw, _sequenceAdvantages, clip, backward);
            _sequence.Logp.CopyTo(_logp);
            (pgLoss, clipFrac, ratio, entropy) = (seq.Loss, seq.ClipFrac, seq.MeanRatio, double.NaN);
            for (int n = 0; n < N; n++)
            {
                if (x.Mask[n] == 0) continue;
                double d = (double)_logp[n] - x.OldLogp[n];
                approxKl += _weights[n] * 0.5 * d * d;
            }
        }
        else
        {
            be.PpoLossForwardBackward(dlogits, _lossesN, _arena["logp"], _arena["entropy"], _arena["clipped"],
                logits, _targetsN, _arena["old_logp"], _arena["advantages"], _lossWeightsN, N, V, clip.Low, clip.High, clip.Dual, _s.EntropyCoef);
            be.Download<float>(_lossesN, _losses);
            be.Download<float>(_arena["logp"], _logp);
            be.Download<float>(_arena["entropy"], _entropy);
            be.Download<float>(_arena["clipped"], _clipped);
            for (int n = 0; n < N; n++)
            {
                if (x.Mask[n] == 0) continue;
                double w = _weights[n], d = (double)_logp[n] - x.OldLogp[n];
                pgLoss += (double)lw[n] * (_losses[n] + _s.EntropyCoef * _entropy[n]);
                entropy += w * _entropy[n];
                entropyLoss += (double)lw[n] * _entropy[n];
                // the kernel flags 1 for the ratio clip, 2 for the dual clip
                if (_clipped[n] == 1f) clipFrac += w;
                else if (_clipped[n] == 2f) dualClipFrac += w;
                approxKl += w * 0.5 * d * d;
                ratio += w * Math.Exp(d);
            }
        }

        if (_s.KlInLoss)
        {
            for (int n = 0; n < N; n++)
            {
                _dlogpKl[n] = 0;
                if (x.Mask[n] == 0) continue;
                klLoss += lw[n] * Kl.Estimate(_s.Estimator, _logp[n], x.RefLogp[n]);
                _dlogpKl[n] = (float)(klCoef * lw[n] * Kl.Derivative(_s.Estimator, _logp[n], x.RefLogp[n]));
            }
            if (backward)
            {
                be.Upload<float>(_arena["dlogp_kl"], _dlogpKl);
                be.TokenLogProbsBackward(_arena["dlogits"], _arena["dlogp_kl"], logits, _targetsN, N, V);
            }
        }
        if (backward && _separateDlogits) be.Copy(logits, _arena["dlogits"]);

        double valueLoss = 0, valueClipFrac = 0;
        if (TrainsValue)
        {
            be.Download<float>(_valuesN, _values);
            float c = _s.ClipRangeValue;
            for (int n = 0; n < N; n++)
            {
                _dvalues[n] = 0;
                if (x.Mask[n] == 0) continue;
                double v = _values[n], old = x.OldValues[n], R = x.Returns[n];
                double vClipped = Math.Clamp(v, old - c, old + c);
                double l1 = (v - R) * (v - R), l2 = (vClipped - R) * (vClipped - R);
                bool clipped = l2 > l1;
                valueLoss += lw[n] * 0.5 * Math.Max(l1, l2);
                valueClipFrac += _weights[n] * (clipped ? 1 : 0);
                // d/dv of ½·max(l1, l2): the unclipped branch on ties; the clamped branch moves only inside the range.
                double grad = !clipped ? v - R : v > old - c && v < old + c ? vClipped - R : 0;
                _dvalues[n] = (float)(_s.VfCoef * lw[n] * grad);
            }
            if (backward) be.Upload<float>(_dvaluesN, _dvalues);
        }

        double loss = pgLoss - _s.EntropyCoef * entropyLoss + _s.VfCoef * valueLoss + (_s.KlInLoss ? klCoef * klLoss : 0);
        if (backward)
        {
            // The kernels differentiated with respect to logits/τ; the chain rule scales by 1/τ.
            if (_s.Temperature != 1f) be.Scale(logits, invTemp, (long)N * V);
            _model.Backward(_acts, B, T, new BackwardSources(Logits: true, Values: TrainsValue));
        }
        return new PolicyLossStats(loss, pgLoss, valueLoss, klLoss, entropy, clipFrac, valueClipFrac, approxKl, ratio, dualClipFrac);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _sequence?.Dispose();
        _arena.Dispose();
    }
}
