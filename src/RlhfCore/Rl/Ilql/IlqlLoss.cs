using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Rl.Ilql;

/// <summary>One ILQL batch's numbers, under trlx's stat names (losses/loss, losses/loss_q, …).</summary>
/// <param name="Loss">loss_q + loss_v + cql_scale·loss_cql + awac_scale·loss_awac.</param>
/// <param name="LossQ">TD loss, summed over the Q heads.</param>
/// <param name="LossV">Expectile loss of V.</param>
/// <param name="LossCql">CQL cross-entropy, summed over the Q heads (unscaled).</param>
/// <param name="LossAwac">AWAC-weighted LM cross-entropy (unscaled; 0 without LM logits).</param>
/// <param name="MeanV">Mean V over the action rows.</param>
/// <param name="MeanQ">Mean Q of the first head at the taken actions.</param>
/// <param name="MeanAwacWeight">Mean AWAC weight exp(β·(min target Q − V)).</param>
public readonly record struct IlqlStats(double Loss, double LossQ, double LossV, double LossCql, double LossAwac, double MeanV, double MeanQ, double MeanAwacWeight)
{
    /// <summary>The stats as trlx names them.</summary>
    public IReadOnlyDictionary<string, double> Named() => new Dictionary<string, double>
    {
        ["losses/loss"] = Loss, ["losses/loss_q"] = LossQ, ["losses/loss_v"] = LossV, ["losses/loss_cql"] = LossCql,
        ["losses/loss_awac"] = LossAwac, ["values/mean"] = MeanV, ["qvalues/0/mean"] = MeanQ, ["awac_weight/mean"] = MeanAwacWeight,
    };
}

/// <summary>
/// ILQL's losses (Snell et al. 2022; trlx's ILQLConfig.loss) over token rows laid out as the rollouts are (sequence b's row
/// b·T + t, action rows marked by the mask, the action being the next token). For action row n with Q heads Qᵢ, target heads
/// Q̂ᵢ, value V and n_nt = max(1, Σ mask):
/// <list type="bullet">
/// <item>next value V' = V of row n + 1 when it is an action row of the same sequence, else 0 (the state after the last action is terminal);</item>
/// <item>TD: loss_q = Σᵢ Σₙ mask·(Qᵢ(sₙ, aₙ) − (rₙ + γ·V'))² / n_nt, V' detached;</item>
/// <item>expectile: with qTarget = minᵢ Q̂ᵢ(sₙ, aₙ) (detached), loss_v = Σₙ mask·|τ − 1[qTarget &lt; V]|·(qTarget − V)² / n_nt;</item>
/// <item>CQL: loss_cql = Σᵢ Σₙ mask·CE(Qᵢ(sₙ, ·), aₙ) / n_nt, the Q row read as logits;</item>
/// <item>AWAC: loss_awac = Σₙ mask·w·CE(logits(sₙ, ·), aₙ) / n_nt, w = exp(β·(qTarget − V)) detached;</item>
/// <item>loss = loss_q + loss_v + cql_scale·loss_cql + awac_scale·loss_awac.</item>
/// </list>
/// The per-token scalars (Q at the action, V) are downloaded and the TD and expectile terms computed on the host in
/// double; the CQL and AWAC terms run the fused cross-entropy kernel, which writes dQ and dlogits in place; the TD gradient
/// at the action is then added by <see cref="IBackend.GatherColumnsBackward"/>, and ∂loss/∂V goes to
/// <see cref="IlqlHeads.DValues"/>. After <see cref="Run"/> with backward, <see cref="IlqlHeads.Backward"/> finishes the
/// heads and the caller backpropagates the LM dlogits. Buffers are allocated once.
/// </summary>
public sealed class IlqlLoss : IDisposable
{
    private readonly IBackend _be;
    private readonly IlqlSettings _s;
    private readonly TensorArena _arena;
    private readonly int _maxRows;
    private readonly float[][] _qa, _tqa;
    private readonly float[] _v, _ce, _w, _dqa, _dv;
    private readonly double[] _target, _awac;

    /// <summary>Buffers for up to <paramref name="maxRows"/> token rows.</summary>
    public IlqlLoss(IBackend backend, IlqlSettings settings, int maxRows)
    {
        settings.Validate();
        _be = backend;
        _s = settings;
        _maxRows = maxRows;
        _arena = new TensorArena(backend,
        [
            new("qa", DType.F32, [maxRows]), new("ce", DType.F32, [maxRows]), new("w", DType.F32, [maxRows]), new("dqa", DType.F32, [maxRows]),
        ]);
        int heads = settings.TwoQs ? 2 : 1;
        _qa = new float[heads][];
        _tqa = new float[heads][];
        for (int i = 0; i < heads; i++) { _qa[i] = new float[maxRows]; _tqa[i] = new float[maxRows]; }
        _v = new float[maxRows]; _ce = new float[maxRows]; _w = new float[maxRows]; _dqa = new float[maxRows]; _dv = new float[maxRows];
        _target = new double[maxRows]; _awac = new double[maxRows];
    }

    /// <summary>min over the target heads of Q̂ᵢ(sₙ, aₙ) from the last <see cref="Run"/>.</summary>
    public ReadOnlySpan<double> TargetQ => _target;

    /// <summary>
    /// The loss of <paramref name="rows"/>·<paramref name="T"/> token rows after <see cref="IlqlHeads.Forward"/> on their hidden
    /// states. <paramref name="actions"/> [N] I32 on the device (valid ids on every row); <paramref name="mask"/> and
    /// <paramref name="rewards"/> [N] on the host. <paramref name="lmLogits"/> [N, V] are the policy's logits for the AWAC term
    /// (<see cref="Tensor.None"/>: no AWAC term); with <paramref name="backward"/> their gradient goes to <paramref name="lmDLogits"/>
    /// (may alias the logits), dQ into the heads' Q buffers and ∂loss/∂V into <see cref="IlqlHeads.DValues"/>, every gradient
    /// multiplied by <paramref name="gradScale"/> (1 / micro-batches under accumulation; the stats stay unscaled).
    /// </summary>
    public IlqlStats Run(IlqlHeads heads, Tensor actions, float[] mask, float[] rewards, int rows, int T, Tensor lmLogits, Tensor lmDLogits, bool backward,
        double gradScale = 1)
    {
        int N = rows * T, V = heads.V, H = heads.QHeads;
        if (N <= 0 || N > _maxRows || N > heads.MaxRows || mask.Length < N || rewards.Length < N)
            throw new ArgumentException($"ILQL loss: {rows}×{T} rows with {mask.Length} mask and {rewards.Length} reward entries (buffers hold {_maxRows} rows)");
        if (H != _qa.Length) throw new ArgumentException($"ILQL loss: the heads have {H} Q heads but two_qs is {_s.TwoQs}");
        double count = 0;
        for (int n = 0; n < N; n++) count += mask[n];
        double nnt = Math.Max(1, count);

        for (int i = 0; i < H; i++)
        {
            _be.GatherColumnsForward(_arena["qa"].Head(N), heads.Q(i), actions, N, V);
            _be.Download<float>(_arena["qa"].Head(N), _qa[i].AsSpan(0, N));
            _be.GatherColumnsForward(_arena["qa"].Head(N), heads.TargetQ(i), actions, N, V);
            _be.Download<float>(_arena["qa"].Head(N), _tqa[i].AsSpan(0, N));
        }
        _be.Download<float>(heads.Values.Head(N), _v.AsSpan(0, N));

        double lossQ = 0, lossV = 0, meanV = 0, meanQ = 0, meanW = 0;
        for (int n = 0; n < N; n++)
        {
            double qTarget = _tqa[0][n];
            for (int i = 1; i < H; i++) qTarget = Math.Min(qTarget, _tqa[i][n]);
            _target[n] = qTarget;
            _awac[n] = Math.Exp(_s.Beta * (qTarget - _v[n]));
            _dv[n] = 0;
            if (mask[n] == 0) continue;
            double d = qTarget - _v[n], weight = d >= 0 ? _s.Tau : 1 - _s.Tau;   // trlx: τ where target ≥ V
            lossV += mask[n] * weight * d * d / nnt;
            _dv[n] = (float)(-2 * weight * d * mask[n] / nnt * gradScale);
            meanV += _v[n] / nnt;
            meanQ += _qa[0][n] / nnt;
            meanW += _awac[n] / nnt;
        }

        double lossCql = 0;
        for (int i = 0; i < H; i++)
        {
            for (int n = 0; n < N; n++)
            {
                double td = mask[n] == 0 ? 0 : _qa[i][n] - (rewards[n] + _s.Gamma * NextValue(mask, n, N, T));
                lossQ += mask[n] * td * td / nnt;
                _dqa[n] = (float)(2 * td * mask[n] / nnt * gradScale);
                _w[n] = (float)(_s.CqlScale * mask[n] / nnt * gradScale);
            }
            _be.Upload<float>(_arena["w"].Head(N), _w.AsSpan(0, N));
            _be.CrossEntropyForwardBackward(_arena["ce"].Head(N), backward ? heads.Q(i) : Tensor.None, heads.Q(i), actions, _arena["w"].Head(N), N, V);
            _be.Download<float>(_arena["ce"].Head(N), _ce.AsSpan(0, N));
            for (int n = 0; n < N; n++) lossCql += mask[n] * _ce[n] / nnt;
            if (backward)
            {
                _be.Upload<float>(_arena["dqa"].Head(N), _dqa.AsSpan(0, N));
                _be.GatherColumnsBackward(heads.Q(i), _arena["dqa"].Head(N), actions, N, V);
            }
        }

        double lossAwac = 0;
        if (!lmLogits.IsNone)
        {
            for (int n = 0; n < N; n++) _w[n] = (float)(_s.AwacScale * _awac[n] * mask[n] / nnt * gradScale);
            _be.Upload<float>(_arena["w"].Head(N), _w.AsSpan(0, N));
            _be.CrossEntropyForwardBackward(_arena["ce"].Head(N), backward ? lmDLogits : Tensor.None, lmLogits, actions, _arena["w"].Head(N), N, V);
            _be.Download<float>(_arena["ce"].Head(N), _ce.AsSpan(0, N));
            for (int n = 0; n < N; n++) lossAwac += mask[n] * _awac[n] * _ce[n] / nnt;
        }
        if (backward) _be.Upload<float>(heads.DValues.Head(N), _dv.AsSpan(0, N));

        double loss = lossQ + lossV + _s.CqlScale * lossCql + _s.AwacScale * lossAwac;
        return new IlqlStats(loss, lossQ, lossV, lossCql, lossAwac, meanV, meanQ, meanW);
    }

    /// <summary>V of the next state for action row n: the next row's V when it is an action row of the same sequence, else 0.</summary>
    private double NextValue(float[] mask, int n, int N, int T) =>
        n + 1 < N && (n + 1) % T != 0 && mask[n + 1] != 0 ? _v[n + 1] : 0;

    /// <inheritdoc/>
    public void Dispose() => _arena.Dispose();
}
