namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 SGD step in torch.optim.SGD's order (dampening 0): L2 decay into the gradient, then momentum, then Nesterov or heavy-ball.</summary>
public static class SgdReference
{
    /// <summary>Updates param and buf in place.</summary>
    public static void Update(double[] param, double[] grad, double[] buf, double lr, double momentum, double weightDecay, double gradScale, bool nesterov)
    {
        for (int i = 0; i < param.Length; i++)
        {
            double g = gradScale * grad[i] + weightDecay * param[i];
            buf[i] = momentum * buf[i] + g;
            double d = nesterov ? g + momentum * buf[i] : buf[i];
            param[i] -= lr * d;
        }
    }
}
