using RlhfCore.Data;
using RlhfCore.IO;

namespace RlhfCore.Training.BestOfN;

/// <summary>
/// Writes a rejection-sampling fine-tuning set: each prompt's best completion as a TRL SFT line
/// <c>{"prompt","completion"}</c> (the completion without its end-of-text token, which SFT appends), so
/// <c>rlhf sft --data</c> reads it. The file is written atomically.
/// </summary>
public static class RejectionSamplingSet
{
    /// <summary>
    /// Writes the best completion of every prompt whose best score is at least <paramref name="minScore"/>
    /// (all when null) to <paramref name="path"/>, and returns how many lines were written.
    /// </summary>
    public static int Write(string path, BestOfNResult result, double? minScore = null)
    {
        int written = 0;
        AtomicFile.Write(path, stream =>
        {
            foreach (var p in result.Prompts)
            {
                if (minScore is double min && !(p.BestScore >= min)) continue;
                stream.Write(JsonLine.Build(w =>
                {
                    w.WriteString("prompt", p.Prompt);
                    w.WriteString("completion", p.Best.Text);
                }));
                written++;
            }
        });
        return written;
    }
}
