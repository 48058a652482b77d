namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 GAE and masked normalization, the oracle for <see cref="RlhfCore.Backends.IBackend.GaeForward"/>
/// and <see cref="RlhfCore.Backends.IBackend.MaskedNormalize"/>. It finds each real position's successor by
/// searching forward (not by carrying state backwards, as the kernels do), so it checks the skipping rule
/// independently.
/// </summary>
public static class GaeReference
{
    /// <summary>Advantages, returns and (Σ mask, Σ mask·A, Σ mask·A²) for rows of [B, T].</summary>
    public static (double[] Advantages, double[] Returns, double[] Moments) Run(
        double[] rewards, double[] values, double[] mask, int B, int T, double gamma, double lambda)
    {
        var adv = new double[B * T];
        var ret = new double[B * T];
        var moments = new double[3];
        for (int b = 0; b < B; b++)
            for (int t = T - 1; t >= 0; t--)
            {
                int i = b * T + t;
                if (mask[i] == 0) continue;
                int next = t + 1;
                while (next < T && mask[b * T + next] == 0) next++;
                double nextValue = next < T ? values[b * T + next] : 0;
                double nextAdv = next < T ? adv[b * T + next] : 0;
                adv[i] = rewards[i] + gamma * nextValue - values[i] + gamma * lambda * nextAdv;
                ret[i] = adv[i] + values[i];
            }
        for (int i = 0; i < B * T; i++)
        {
            moments[0] += mask[i];
            moments[1] += mask[i] * adv[i];
            moments[2] += mask[i] * adv[i] * adv[i];
        }
        return (adv, ret, moments);
    }

    /// <summary>x[i] = mask[i] ≠ 0 ? (x[i] − mean)·scale : 0.</summary>
    public static double[] MaskedNormalize(double[] x, double[] mask, double mean, double scale) =>
        x.Select((v, i) => mask[i] != 0 ? (v - mean) * scale : 0).ToArray();
}
