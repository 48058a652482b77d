using RlhfCore.Backends.Cuda;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Verification;

// The per-op cases of BackendSelfTest: sizes include 1, 7, 97 and 1025 where they apply, plus a
// GPT-2-sized shape. Each lambda uploads the same host inputs on whichever backend it is given.
public sealed partial class BackendSelfTest
{
    private IEnumerable<SelfTestRow> Residual()
    {
        foreach (long n in ElementwiseSizes)
        {
            float[] a = Floats(n), b = Floats(n), d = Floats(n);
            yield return Compare("residual_forward", $"n={n}", Fp32Tolerance, s =>
            {
                var o = s.Poisoned((int)n);
                s.Backend.ResidualForward(o, s.Upload(a), s.Upload(b), n);
                return [s.Read(o)];
            });
            yield return Compare("residual_backward", $"n={n}", Fp32Tolerance, s =>
            {
                var di = s.Upload(a);
                s.Backend.ResidualBackward(di, s.Upload(d), n);
                return [s.Read(di)];
            });
        }
    }

    private IEnumerable<SelfTestRow> Gelu()
    {
        foreach (long n in ElementwiseSizes)
        {
            float[] x = Floats(n, -6f, 6f), d = Floats(n);
            yield return Compare("gelu_forward", $"n={n}", Fp32Tolerance, s =>
            {
                var o = s.Poisoned((int)n);
                s.Backend.GeluForward(o, s.Upload(x), n);
                return [s.Read(o)];
            });
            yield return Compare("gelu_backward", $"n={n}", Fp32Tolerance, s =>
            {
                var o = s.Poisoned((int)n);
                s.Backend.GeluBackward(o, s.Upload(x), s.Upload(d), n);
                return [s.Read(o)];
            });
        }
    }

    private IEnumerable<SelfTestRow> Embedding()
    {
        foreach (var (N, C, V, maxT) in new[] { (1, 7, 5, 3), (97, 1025, 7, 97), (1024, 768, 1000, 256) })
        {
            int[] tok = Ints(N, 0, V), pos = Ints(N, 0, maxT);
            float[] wte = Floats((long)V * C), wpe = Floats((long)maxT * C), dout = Floats((long)N * C);
            float[] dwte0 = Floats((long)V * C), dwpe0 = Floats((long)maxT * C);
            string shape = $"N={N} C={C} V={V} T={maxT}";
            yield return Compare("embedding_forward", shape, Fp32Tolerance, s =>
            {
                var o = s.Poisoned(N, C);
                s.Backend.EmbeddingForward(o, s.Upload(tok), s.Upload(pos), s.Upload(wte, V, C), s.Upload(wpe, maxT, C), N, C);
                return [s.Read(o)];
            });
            yield return Compare("embedding_backward", shape, ReductionTolerance, s =>
            {
                Tensor dwte = s.Upload(dwte0, V, C), dwpe = s.Upload(dwpe0, maxT, C);
                s.Backend.EmbeddingBackward(dwte, dwpe, s.Upload(dout, N, C), s.Upload(tok), s.Upload(pos), N, C);
                return [s.Read(dwte), s.Read(dwpe)];
            });
        }
    }

    private IEnumerable<SelfTestRow> GatherRows()
    {
        foreach (var (M, C, R) in new[] { (1, 7, 1), (7, 97, 3), (97, 1025, 33) })
        {
            int[] rows = Ints(M, 0, R);
            float[] inp = Floats((long)R * C), dout = Floats((long)M * C), dinp0 = Floats((long)R * C);
            string shape = $"M={M} C={C} rows={R}";
            yield return Compare("gather_rows_forward", shape, Fp32Tolerance, s =>
            {
                var o = s.Poisoned(M, C);
                s.Backend.GatherRowsForward(o, s.Upload(inp, R, C), s.Upload(rows), M, C);
                return [s.Read(o)];
            });
            yield return Compare("gather_rows_backward", shape, Fp32Tolerance, s =>
            {
                var di = s.Upload(dinp0, R, C);
                s.Backend.GatherRowsBackward(di, s.Upload(dout, M, C), s.Upload(rows), M, C);
                return [s.Read(di)];
            });
        }
    }

    private IEnumerable<SelfTestRow> LayerNorm()
    {
        foreach (var (N, C) in new[] { (1, 7), (7, 97), (97, 1025), (1024, 768) })
        {
            float[] x = Floats((long)N * C, -2f, 3f), w = Floats(C, 0.5f, 1.5f), b = Floats(C), dout = Floats((long)N * C);
            float[] dinp0 = Floats((long)N * C), dw0 = Floats(C), db0 = Floats(C);
            string shape = $"N={N} C={C}";
            yield return Compare("layernorm_forward", shape, ReductionTolerance, s =>
            {
                Tensor o = s.Poisoned(N, C), mean = s.Poisoned(N), rstd = s.Poisoned(N);
                s.Backend.LayerNormForward(o, mean, rstd, s.Upload(x, N, C), s.Upload(w), s.Upload(b), N, C);
                return [s.Read(o), s.Read(mean), s.Read(rstd)];
            });
            yield return Compare("layernorm_backward", shape, ReductionTolerance, s =>
            {
                Tensor o = s.Poisoned(N, C), mean = s.Poisoned(N), rstd = s.Poisoned(N), xt = s.Upload(x, N, C), wt = s.Upload(w);
                s.Backend.LayerNormForward(o, mean, rstd, xt, wt, s.Upload(b), N, C);
                Tensor di = s.Upload(dinp0, N, C), dw = s.Upload(dw0), db = s.Upload(db0);
                s.Backend.LayerNormBackward(di, dw, db, s.Upload(dout, N, C), xt, wt, mean, rstd, N, C);
                return [s.Read(di), s.Read(dw), s.Read(db)];
            });
        }
    }

    private IEnumerable<SelfTestRow> Matmul()
    {
        bool twoEngines = _backend is CudaBackend or Ilgpu.IlgpuBackend { Kind: Ilgpu.IlgpuAcceleratorKind.Cuda };
        var engines = twoEngines ? new[] { true, false } : [true];
        foreach (var (N, C, OC) in new[] { (1, 7, 1), (7, 97, 33), (97, 1025, 7), (1024, 768, 2304) })
            foreach (bool lt in engines)
            {
                float[] x = Floats((long)N * C), w = Floats((long)OC * C), bias = Floats(OC), dout = Floats((long)N * OC);
                float[] dinp0 = Floats((long)N * C), dw0 = Floats((long)OC * C), db0 = Floats(OC);
                string suffix = twoEngines ? (lt ? "" : "_own_kernel") : "";
                string shape = $"N={N} C={C} OC={OC}";
                yield return WithEngine(lt, () => Compare("matmul_forward" + suffix, shape, Tf32Tolerance, s =>
                {
                    var o = s.Poisoned(N, OC);
                    s.Backend.MatmulForward(o, s.Upload(x, N, C), s.Upload(w, OC, C), s.Upload(bias), N, C, OC);
                    return [s.Read(o)];
                }));
                yield return WithEngine(lt, () => Compare("matmul_forward_nobias" + suffix, shape, Tf32Tolerance, s =>
                {
                    var o = s.Poisoned(N, OC);
                    s.Backend.MatmulForward(o, s.Upload(x, N, C), s.Upload(w, OC, C), Tensor.None, N, C, OC);
                    return [s.Read(o)];
                }));
                foreach (bool acc in new[] { false, true })
                    yield return WithEngine(lt, () => Compare($"matmul_backward{(acc ? "_acc" : "")}" + suffix, shape, Tf32Tolerance, s =>
                    {
                        Tensor di = acc ? s.Upload(dinp0, N, C) : s.Poisoned(N, C), dw = s.Upload(dw0, OC, C), db = s.Upload(db0);
                        s.Backend.MatmulBackward(di, dw, db, s.Upload(dout, N, OC), s.Upload(x, N, C), s.Upload(w, OC, C), N, C, OC, acc);
                        return [s.Read(di), s.Read(dw), s.Read(db)];
                    }));
            }
    }

    /// <summary>Runs <paramref name="check"/> with a CUDA backend's GEMM engine set to cuBLASLt or our kernel.</summary>
    private SelfTestRow WithEngine(bool cublasLt, Func<SelfTestRow> check)
    {
        if (_backend is CudaBackend cuda)
        {
            bool saved = cuda.UseCublasLt;
            cuda.UseCublasLt = cublasLt;
            try { return check(); }
            finally { cuda.UseCublasLt = saved; }
        }
        if (_backend is Ilgpu.IlgpuBackend ilgpu)
        {
            bool saved = ilgpu.UseCublasLt;
            ilgpu.UseCublasLt = cublasLt;
            try { return check(); }
            finally { ilgpu.UseCublasLt = saved; }
        }
        return check();
    }

    private static readonly (int N, int V)[] RowShapes = [(1, 7), (7, 97), (33, 1025), (8, 50257)];

    private int[] Targets(int N, int V)
    {
        var t = Ints(N, 0, V);
        if (N > 2) t[1] = -1;
        return t;
    }

    private IEnumerable<SelfTestRow> CrossEntropy()
    {
        foreach (var (N, V) in RowShapes)
        {
            float[] logits = Floats((long)N * V, -4f, 4f), w = Floats(N, 0f, 1f);
            int[] targets = Targets(N, V);
            string shape = $"N={N} V={V}";
            yield return Compare("crossentropy_fused", shape, ReductionTolerance, s =>
            {
                Tensor l = s.Upload(logits, N, V), losses = s.Poisoned(N);
                s.Backend.CrossEntropyForwardBackward(losses, l, l, s.Upload(targets), s.Upload(w), N, V);
                return [s.Read(losses), s.Read(l)];
            });
            yield return Compare("crossentropy_forward_only", shape, ReductionTolerance, s =>
            {
                Tensor losses = s.Poisoned(N);
                s.Backend.CrossEntropyForwardBackward(losses, Tensor.None, s.Upload(logits, N, V), s.Upload(targets), Tensor.None, N, V);
                return [s.Read(losses)];
            });
        }
    }

    private IEnumerable<SelfTestRow> LogProbs()
    {
        foreach (var (N, V) in RowShapes)
        {
            float[] logits = Floats((long)N * V, -4f, 4f), g = Floats(N), d0 = Floats((long)N * V);
            int[] tok = Ints(N, 0, V);
            if (N > 2) g[1] = 0f;
            string shape = $"N={N} V={V}";
            yield return Compare("logprobs_forward", shape, ReductionTolerance, s =>
            {
                Tensor o = s.Poisoned(N);
                s.Backend.TokenLogProbsForward(o, s.Upload(logits, N, V), s.Upload(tok), N, V);
                return [s.Read(o)];
            });
            yield return Compare("logprobs_backward", shape, ReductionTolerance, s =>
            {
                Tensor d = s.Upload(d0, N, V);
                s.Backend.TokenLogProbsBackward(d, s.Upload(g), s.Upload(logits, N, V), s.Upload(tok), N, V);
                return [s.Read(d)];
            });
        }
    }

    private IEnumerable<SelfTestRow> Entropy()
    {
        foreach (var (N, V) in RowShapes)
        {
            float[] logits = Floats((long)N * V, -4f, 4f), g = Floats(N), d0 = Floats((long)N * V);
            string shape = $"N={N} V={V}";
            yield return Compare("logprobs_entropy_forward", shape, ReductionTolerance, s =>
            {
                Tensor o = s.Poisoned(N);
                s.Backend.EntropyForward(o, s.Upload(logits, N, V), N, V);
                return [s.Read(o)];
            });
            yield return Compare("logprobs_entropy_backward", shape, ReductionTolerance, s =>
            {
                Tensor d = s.Upload(d0, N, V);
                s.Backend.EntropyBackward(d, s.Upload(g), s.Upload(logits, N, V), N, V);
                return [s.Read(d)];
            });
        }
    }

    private IEnumerable<SelfTestRow> Sampling()
    {
        var settings = new (float T, int K, float P)[] { (0f, 0, 1f), (1f, 0, 1f), (0.7f, 50, 1f), (1f, 0, 0.9f), (1.3f, 40, 0.8f), (1f, 1, 1f) };
        foreach (var (B, V) in new[] { (1, 7), (7, 97), (16, 1025), (4, 50257) })
            foreach (var (T, K, P) in settings)
            {
                float[] logits = Floats((long)B * V, -3f, 3f), u = Floats(B, 0f, 1f);
                if (V == 7) logits[3] = logits[5]; // a tie
                yield return Compare("sampling", $"B={B} V={V} t={T} k={K} p={P}", 0, s =>
                {
                    Tensor tok = s.Alloc(DType.I32, B);
                    s.Backend.SampleTokens(tok, s.Upload(logits, B, V), s.Upload(u), B, V, T, K, P);
                    return [s.Read(tok)];
                }, exact: true);
            }
    }

    private IEnumerable<SelfTestRow> AdamW()
    {
        foreach (long n in ElementwiseSizes)
        {
            float[] p = Floats(n), g = Floats(n), m = Floats(n, -0.1f, 0.1f), v = Floats(n, 0f, 0.01f);
            yield return Compare("adamw_update", $"n={n}", Fp32Tolerance, s =>
            {
                Tensor pt = s.Upload(p), mt = s.Upload(m), vt = s.Upload(v);
                s.Backend.AdamWUpdate(pt, s.Upload(g), mt, vt, n, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, 7);
                return [s.Read(pt), s.Read(mt), s.Read(vt)];
            });
        }
    }

    private IEnumerable<SelfTestRow> SumOfSquares()
    {
        foreach (long n in ElementwiseSizes.Append((1 << 22) + 5))
        {
            float[] x = Floats(n);
            yield return Compare("grad_norm_sum_of_squares", $"n={n}", 1e-6, s =>
            {
                Tensor r = s.Poisoned(1);
                s.Backend.SumOfSquares(r, s.Upload(x), n);
                return [s.Read(r)];
            });
        }
    }

    private IEnumerable<SelfTestRow> Scale()
    {
        foreach (long n in ElementwiseSizes)
        {
            float[] x = Floats(n);
            yield return Compare("grad_norm_scale", $"n={n}", Fp32Tolerance, s =>
            {
                Tensor t = s.Upload(x);
                s.Backend.Scale(t, 0.37f, n);
                return [s.Read(t)];
            });
        }
    }
}
