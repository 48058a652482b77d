using RlhfCore.Feedback;
using RlhfCore.Feedback.Annotation;

namespace RlhfCore.Training.Pipeline;

/// <summary>The feedback stages: sample K completions per prompt, then judge them (pairs for K = 2, rankings for K ≥ 3).</summary>
public sealed partial class RlhfPipeline
{
    /// <summary>The round's feedback records: preference pairs (K = 2), or K-wise rankings as the reward model learns from them.</summary>
    private List<FeedbackRecord> Feedback(int r)
    {
        if (_o.CompletionsPerPrompt == 2) return Preferences(r, Comparisons(r)).ToList<FeedbackRecord>();
        var rankings = Rankings(r, KwiseComparisons(r));
        return _o.RankingLoss == RankingLoss.Pairs
            ? rankings.SelectMany(x => x.ToPairs()).ToList<FeedbackRecord>()
            : rankings.Select(x => x.ToStrictRanking()).OfType<FeedbackRecord>().ToList();
    }

    /// <summary>K samples per fresh prompt from the current policy (prompt-major), at temperature 1 (an ILQL policy with its decoding).</summary>
    private (string[] Prompts, IReadOnlyList<string> Completions) Sample(int r, int k)
    {
        using var policy = IO.ModelFiles.Load(PolicyModel(r - 1), _be);
        using var ilql = IlqlDecodingOf(r - 1, policy);
        var rng = new Rng(Seed(r, 1));
        var prompts = Enumerable.Range(0, _o.ComparisonsPerRound).Select(_ => _task.SamplePrompt(rng)).ToArray();
        var repeated = prompts.SelectMany(p => Enumerable.Repeat(p, k)).ToArray();
        var samples = GoldEvaluation.Run(_task, policy, _tok, repeated, temperature: 1f, seed: Seed(r, 2), shaper: ilql?.Shaper);
        return (prompts, samples.Completions);
    }

    /// <summary>Two samples per fresh prompt from the current policy, for people or the simulated annotator to compare.</summary>
    private IReadOnlyList<ComparisonItem> Comparisons(int r)
    {
        string path = Path.Combine(RoundDir(r), "comparisons.jsonl");
        if (File.Exists(path)) return ComparisonFile.Read(path);
        var (prompts, completions) = Sample(r, 2);
        var items = Enumerable.Range(0, prompts.Length).Select(i => new ComparisonItem(prompts[i], completions[2 * i], completions[2 * i + 1])).ToList();
        ComparisonFile.Write(path, items);
        _log($"round {r}: {items.Count} comparisons sampled from {PolicyModel(r - 1)}");
        return items;
    }

    /// <summary>K samples per fresh prompt, to be ranked (K = --completions-per-prompt ≥ 3).</summary>
    private IReadOnlyList<RankingItem> KwiseComparisons(int r)
    {
        int k = _o.CompletionsPerPrompt;
        string path = Path.Combine(RoundDir(r), "comparisons.jsonl");
        if (File.Exists(path)) return RankingFiles.ReadItems(path, k);
        var (prompts, completions) = Sample(r, k);
        var items = Enumerable.Range(0, prompts.Length).Select(i => new RankingItem(prompts[i], completions.Skip(i * k).Take(k).ToArray())).ToList();
        RankingFiles.WriteItems(path, items);
        _log($"round {r}: {items.Count} prompts × {k} completions sampled from {PolicyModel(r - 1)}");
        return items;
    }

    private SimulatedAnnotator Annotator(ulong seed) => new(_task, new AnnotatorOptions
    {
        Temperature = _o.AnnotatorTemperature, FlipProbability = _o.AnnotatorFlip, LengthBias = _o.AnnotatorLengthBias,
        TieMargin = _o.AnnotatorTieMargin, Seed = seed,
    });

    /// <summary>The simulated annotator's Plackett–Luce rankings of the round's K-wise items (rankings.jsonl).</summary>
    private List<RankingRecord> Rankings(int r, IReadOnlyList<RankingItem> items)
    {
        string path = Path.Combine(RoundDir(r), "rankings.jsonl");
        if (!File.Exists(path))
        {
            var rankings = Annotator(Seed(r, 3)).Rank(items);
            RankingFiles.WriteRankings(path, rankings);
            _log($"round {r}: simulated annotator ranked {items.Count} prompts × {_o.CompletionsPerPrompt} completions; {rankings.Count(x => x.Groups < 2)} all ties");
        }
        return RankingFiles.ReadRankings(path);
    }

    /// <summary>The round's preference pairs: from the simulated annotator, or from people's labels.</summary>
    private IReadOnlyList<PreferencePair> Preferences(int r, IReadOnlyList<ComparisonItem> items)
    {
        if (_o.Labels == LabelSource.Human)
        {
            string labels = Path.Combine(RoundDir(r), "labels", "pairs.jsonl");
            if (!File.Exists(labels))
                throw new AwaitingLabelsException($"round {r} needs labels: run `rlhf label --input {Path.Combine(RoundDir(r), "comparisons.jsonl")} " +
                    $"--out-dir {Path.Combine(RoundDir(r), "labels")}`, then run the pipeline again with the same flags to continue");
            return ReadPairs(r, labels);
        }
        string path = Path.Combine(RoundDir(r), "pairs.jsonl");
        if (!File.Exists(path))
        {
            var result = Annotator(Seed(r, 3)).Label(items);
            result.WritePairs(path);
            _log($"round {r}: simulated annotator judged {items.Count} comparisons, {result.Pairs.Count} preference pairs (ties and identical pairs dropped)");
        }
        return ReadPairs(r, path);
    }

    /// <summary>
    /// The round's pairs. A pair whose completion is empty (the policy emitted only EOS) is a real judgment
    /// about a bad answer, and the reward model scores it as prompt + EOS; only unreadable or identical pairs are skipped.
    /// </summary>
    private List<PreferencePair> ReadPairs(int r, string path)
    {
        var set = FeedbackReader.Read(path, FeedbackKind.Pairs, skipInvalid: true, allowEmptyCompletions: true);
        if (set.Skipped.Count > 0) _log($"round {r}: {set.Skipped.Count} pairs skipped ({set.Skipped[0]}{(set.Skipped.Count > 1 ? ", …" : "")})");
        return set.Records.Cast<PreferencePair>().ToList();
    }

    /// <summary>Every pair the feedback implies (rankings: all better-worse pairs), for DPO; pairs with an empty completion are left out (DPO needs tokens to score).</summary>
    private static List<PreferencePair> DpoPairs(IReadOnlyList<FeedbackRecord> feedback) =>
        feedback.SelectMany(f => f switch
        {
            PreferencePair p => [p],
            RankedCompletions k => Enumerable.Range(0, k.Ranked.Count).SelectMany(i => k.Ranked.Skip(i + 1).Select(w => new PreferencePair(k.Prompt, k.Ranked[i], w))),
            _ => Enumerable.Empty<PreferencePair>(),
        }).Where(p => p.Chosen.Length > 0 && p.Rejected.Length > 0).ToList();
}
