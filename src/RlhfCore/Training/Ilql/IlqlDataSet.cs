using RlhfCore.Data;
using RlhfCore.Rl.Ilql;

namespace RlhfCore.Training.Ilql;

/// <summary>The tokenized training and held-out examples of an ILQL run.</summary>
/// <param name="Train">Training examples.</param>
/// <param name="Eval">Held-out examples (may be empty).</param>
public sealed record IlqlDataSet(IReadOnlyList<IlqlSequence> Train, IReadOnlyList<IlqlSequence> Eval)
{
    /// <summary>
    /// Reads <see cref="Core.DatasetTrainerOptions.Data"/> (ratings or approvals JSONL, through <see cref="IlqlData"/>) and the
    /// held-out data, or holds out the file's last <see cref="Core.DatasetTrainerOptions.EvalFraction"/>, and tokenizes both.
    /// </summary>
    public static IlqlDataSet Build(IlqlOptions o, ITokenizer tokenizer, int vocabSize)
    {
        var all = Read(o.Data, "--data");
        List<IlqlExample> train, eval;
        if (o.EvalData is { Length: > 0 })
        {
            train = all;
            eval = Read(o.EvalData, "--eval-data");
        }
        else
        {
            (train, eval) = HeldOutSplit.Tail(all, o.EvalFraction);
        }
        if (train.Count == 0) throw new ArgumentException($"{o.Data}: no training examples");
        List<IlqlSequence> Tokenize(List<IlqlExample> list) => [.. list.Select(e => IlqlSequence.From(e, tokenizer, o.SeqLen, vocabSize))];
        return new IlqlDataSet(Tokenize(train), Tokenize(eval));
    }

    private static List<IlqlExample> Read(string path, string flag)
    {
        if (path.StartsWith("builtin:", StringComparison.Ordinal))
            throw new ArgumentException($"{flag} {path}: ILQL has no built-in data; give a ratings {{\"prompt\",\"completion\",\"rating\"}} or approvals {{\"prompt\",\"completion\",\"label\"}} JSONL file (rlhf label writes them; rlhf pipeline --method Ilql labels its own samples)");
        if (!File.Exists(path)) throw new FileNotFoundException($"{flag}: ILQL data not found: {path}", path);
        return [.. IlqlData.Read(path)];
    }
}
