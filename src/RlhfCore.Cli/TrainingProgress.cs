using Spectre.Console;

namespace RlhfCore.Cli;

/// <summary>
/// A progress bar with a status line (loss, tokens/s) on a terminal; plain lines at intervals when the
/// output is redirected, so logs stay readable.
/// </summary>
internal static class TrainingProgress
{
    /// <summary>Runs <paramref name="body"/>, giving it a callback that reports (steps done, status).</summary>
    public static void Run(int totalSteps, int startStep, Action<Action<int, string>> body)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            int every = Math.Max(1, totalSteps / 20);
            body((done, status) =>
            {
                if (done % every == 0 || done == totalSteps || done == startStep + 1)
                    AnsiConsole.MarkupLine($"step {done}/{totalSteps}  {status}");
            });
            return;
        }
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: totalSteps);
                task.Value = startStep;
                body((done, status) =>
                {
                    task.Value = done;
                    task.Description = $"step {done}/{totalSteps}  {status}";
                });
            });
    }
}
