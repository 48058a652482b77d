namespace RlhfCore.Optim;

/// <summary>Shapes of the learning-rate curve after warmup.</summary>
public enum ScheduleKind
{
    /// <summary>Cosine decay from the peak to <c>MinLrFraction</c>·peak at the last step.</summary>
    Cosine,
    /// <summary>The peak rate after warmup.</summary>
    Constant,
}

/// <summary>Linear warmup from 0 then cosine or constant, as a pure function of the step (so resume needs no state).</summary>
/// <param name="PeakLr">Rate reached at the end of warmup.</param>
/// <param name="WarmupSteps">Steps of linear warmup.</param>
/// <param name="TotalSteps">Steps of the whole run (the cosine reaches its floor here).</param>
/// <param name="Kind">Curve after warmup.</param>
/// <param name="MinLrFraction">Floor of the cosine, as a fraction of the peak.</param>
public sealed record LearningRateSchedule(float PeakLr, int WarmupSteps, int TotalSteps, ScheduleKind Kind = ScheduleKind.Cosine, float MinLrFraction = 0.1f)
{
    /// <summary>The rate for 0-based step <paramref name="step"/>.</summary>
    public float At(int step)
    {
        if (step < WarmupSteps) return PeakLr * (step + 1) / WarmupSteps;
        if (Kind == ScheduleKind.Constant || TotalSteps <= WarmupSteps) return PeakLr;
        double progress = Math.Clamp((double)(step - WarmupSteps) / Math.Max(1, TotalSteps - 1 - WarmupSteps), 0, 1);
        double min = PeakLr * MinLrFraction;
        return (float)(min + 0.5 * (PeakLr - min) * (1 + Math.Cos(Math.PI * progress)));
    }
}
