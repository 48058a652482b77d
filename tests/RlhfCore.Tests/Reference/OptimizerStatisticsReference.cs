using RlhfCore.Optim.Telemetry;

namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 optimizer statistics of one tensor, slot by slot as <see cref="OptimizerStatisticSlots"/> lays them out.</summary>
public static class OptimizerStatisticsReference
{
    /// <summary>The <see cref="OptimizerStatisticSlots.KernelSlots"/> values; <paramref name="m"/> and <paramref name="v"/> may be null (their slots are 0).</summary>
    public static double[] Compute(double[] param, double[] previous, double[] grad, double[]? m, double[]? v, double gradScale, double threshold)
    {
        int n = param.Length;
        var s = new double[OptimizerStatisticSlots.KernelSlots];
        for (int i = 0; i < n; i++)
        {
            double g = gradScale * grad[i], d = previous[i] - param[i];
            s[OptimizerStatisticSlots.GradSq] += g * g;
            s[OptimizerStatisticSlots.ParamSq] += param[i] * param[i];
            s[OptimizerStatisticSlots.PreviousSq] += previous[i] * previous[i];
            s[OptimizerStatisticSlots.UpdateSq] += d * d;
            if (m != null)
            {
                s[OptimizerStatisticSlots.MomentumAbsMean] += Math.Abs(m[i]) / n;
                s[OptimizerStatisticSlots.MomentumSq] += m[i] * m[i];
                s[OptimizerStatisticSlots.GradDotMomentum] += g * m[i];
                if (Math.Sign(d) == Math.Sign(m[i])) s[OptimizerStatisticSlots.SignAgreement] += 1.0 / n;
            }
            if (v != null)
            {
                s[OptimizerStatisticSlots.VMean] += v[i] / n;
                s[OptimizerStatisticSlots.VMax] = i == 0 ? v[i] : Math.Max(s[OptimizerStatisticSlots.VMax], v[i]);
                if (v[i] < threshold) s[OptimizerStatisticSlots.VBelow] += 1.0 / n;
            }
        }
        return s;
    }
}
