using RlhfCore.Backends;
using RlhfCore.Model;

namespace RlhfCore.Tests.Model;

/// <summary>
/// The finite-difference probe of the model-level gradient checks: in every parameter tensor, a few random entries and the
/// entry of largest analytic gradient (embedding rows of tokens that never occur have none, so random entries alone can
/// miss every nonzero) are moved by ±h, and the central difference of the loss is compared with the gradient the model
/// holds, within 2e-3 + 3e-2·|g| (float32 losses at h = 1e-2).
/// </summary>
internal static class FiniteDifferenceProbe
{
    /// <summary>
    /// Checks <paramref name="model"/>'s gradients, already computed for <paramref name="loss"/> (which must not touch them),
    /// at <paramref name="randomEntries"/> entries of each tensor drawn from <paramref name="pick"/> plus the largest one.
    /// </summary>
    public static void EveryTensor(IBackend be, GptModel model, Func<double> loss, Random pick, float h, int randomEntries, string label = "")
    {
        for (int i = 0; i < model.Table.Count; i++)
        {
            var spec = model.Table[i];
            var p = new float[spec.Length]; var g = new float[spec.Length];
            be.Download<float>(model.Parameters.Tensors[i], p);
            be.Download<float>(model.Gradients.Tensors[i], g);
            int argMax = Enumerable.Range(0, g.Length).MaxBy(j => Math.Abs(g[j]));
            foreach (int j in Enumerable.Range(0, randomEntries).Select(_ => pick.Next(p.Length)).Append(argMax).Distinct())
            {
                float orig = p[j];
                p[j] = orig + h; be.Upload<float>(model.Parameters.Tensors[i], p); double up = loss();
                p[j] = orig - h; be.Upload<float>(model.Parameters.Tensors[i], p); double down = loss();
                p[j] = orig; be.Upload<float>(model.Parameters.Tensors[i], p);
                double fd = (up - down) / (2 * h);
                Assert.That(Math.Abs(fd - g[j]), Is.LessThanOrEqualTo(2e-3 + 3e-2 * Math.Abs(g[j])),
                    $"{label}{spec.Name}[{j}]: analytic {g[j]:g5}, finite difference {fd:g5}");
            }
        }
    }
}
