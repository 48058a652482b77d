using System.Runtime.InteropServices;
using RlhfCore.Optim;

namespace RlhfCore.Embedding;

/// <summary>rlhf_optimizer_*: an optimizer over a model's parameter and gradient buffers.</summary>
internal static unsafe class OptimizerExports
{
    [UnmanagedCallersOnly]
    public static int Create(nint model, byte* name, byte* settings, nint* optimizer)
    {
        try
        {
            ref nint result = ref NativeArgs.Ref(optimizer, "out");
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            var config = OptimizerSettings.Parse(NativeArgs.Text(name, "name"), NativeArgs.OptionalText(settings));
            lock (m.Owner.Gate)
            {
                var o = new EmbeddedOptimizer(m, new GroupedOptimizer(m.Model.Parameters, m.Model.Gradients, config));
                m.Optimizers++;
                result = HandleTable.Add(o);
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_optimizer_create"); }
    }

    [UnmanagedCallersOnly]
    public static int Step(nint optimizer, float lr, float gradClip, float* gradNorm)
    {
        try
        {
            var o = HandleTable.Get<EmbeddedOptimizer>(optimizer, "optimizer");
            if (!(lr >= 0) || float.IsInfinity(lr)) throw new ArgumentException($"lr must be finite and ≥ 0, got {lr}");
            if (!(gradClip >= 0) || float.IsInfinity(gradClip)) throw new ArgumentException($"grad_clip must be finite and ≥ 0 (0 = off), got {gradClip}");
            lock (o.Model.Owner.Gate)
            {
                float norm = o.Clipper.GlobalNorm(o.Model.Model.Gradients.All);
                if (gradNorm != null) *gradNorm = norm;
                if (!float.IsFinite(norm)) throw new NonFiniteException($"the gradient norm is {norm}: no update was made");
                o.Rule.Update(lr, GradientClipper.ClipScale(norm, gradClip));
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_optimizer_step"); }
    }

    [UnmanagedCallersOnly]
    public static int Destroy(nint optimizer)
    {
        try
        {
            var o = HandleTable.Get<EmbeddedOptimizer>(optimizer, "optimizer");
            lock (o.Model.Owner.Gate)
            {
                HandleTable.Remove<EmbeddedOptimizer>(optimizer, "optimizer");
                o.Model.Optimizers--;
                o.Dispose();
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_optimizer_destroy"); }
    }
}
