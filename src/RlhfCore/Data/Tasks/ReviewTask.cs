using System.Text;

namespace RlhfCore.Data.Tasks;

/// <summary>
/// Short product reviews from a generated corpus, scored by a graded positivity gold reward.
/// <para>
/// Prompts are <c>TOPIC review:</c> (for example <c>pizza review:</c>). Demonstrations are 1 to
/// <see cref="MaxPhrases"/> phrases <c>[not] ADJECTIVE ASPECT</c> with distinct adjectives and distinct aspects of the topic,
/// joined by <c>, </c> and ended with <c>.</c>, after one space: <c> great crust, not fresh sauce.</c>.
/// Adjectives are drawn uniformly (without replacement within a review) from <see cref="ReviewLexicon.Adjectives"/>, so the corpus is as
/// negative as it is positive and a policy has room to improve.
/// </para>
/// <para>
/// Gold reward. Split the completion into words (runs of ASCII letters, lower-cased); with n words:
/// <c>gold = tanh(S / 3) − 0.25·repeats − 0.25·offTopic − 0.1·max(0, n − 3·MaxPhrases)</c>, where S sums
/// the adjectives' weights (negated when <c>not</c> comes right before), <c>repeats</c> counts words other
/// than <c>not</c> seen earlier in the completion, and <c>offTopic</c> counts words that are neither an
/// adjective, <c>not</c>, nor an aspect of the prompt's topic. An empty completion scores −1.
/// The positivity term saturates while the penalties do not, so the score is graded with an interior
/// optimum (about four distinct, strongly positive phrases): a reward model that only learns
/// "positive words are good" can be over-optimized by repeating them, and the gold reward shows it.
/// </para>
/// </summary>
/// <param name="MaxPhrases">Most phrases in a demonstration; the word budget is three words per phrase.</param>
/// <param name="NegationRate">Probability that a demonstration's phrase is negated with <c>not</c>.</param>
public sealed record ReviewTask(int MaxPhrases = 3, double NegationRate = 0.15) : IGoldTask
{
    private const string PromptSuffix = " review:";

    /// <inheritdoc/>
    public string Name => "reviews";

    /// <summary>Words allowed before the length penalty applies.</summary>
    public int WordBudget => 3 * MaxPhrases;

    /// <inheritdoc/>
    /// <remarks>Leading space, then per phrase "not " + the longest adjective and aspect + ", ".</remarks>
    public int MaxCompletionChars =>
        1 + MaxPhrases * (ReviewLexicon.Negation.Length + 1 + ReviewLexicon.AdjectiveList.Max(a => a.Length) + 1
                          + ReviewLexicon.Topics.Values.SelectMany(v => v).Max(a => a.Length) + 2);

    /// <inheritdoc/>
    public string SamplePrompt(Rng rng) => ReviewLexicon.TopicList[rng.NextInt(ReviewLexicon.TopicList.Count)] + PromptSuffix;

    /// <inheritdoc/>
    public PromptCompletion SampleDemonstration(Rng rng)
    {
        if (MaxPhrases < 1) throw new ArgumentOutOfRangeException(nameof(MaxPhrases), MaxPhrases, "a review has at least one phrase");
        string prompt = SamplePrompt(rng);
        var aspects = ReviewLexicon.Topics[Topic(prompt)].ToArray();
        var adjectives = ReviewLexicon.AdjectiveList.ToArray();
        int phrases = 1 + rng.NextInt(Math.Min(MaxPhrases, aspects.Length));
        var sb = new StringBuilder(" ");
        for (int i = 0; i < phrases; i++)
        {
            if (i > 0) sb.Append(", ");
            if (rng.NextDouble() < NegationRate) sb.Append(ReviewLexicon.Negation).Append(' ');
            sb.Append(DrawDistinct(adjectives, i, rng)).Append(' ').Append(DrawDistinct(aspects, i, rng));
        }
        return new PromptCompletion(prompt, sb.Append('.').ToString());
    }

    /// <summary>
    /// One step of a partial Fisher–Yates shuffle: entries before <paramref name="i"/> are the ones drawn so far,
    /// so no word repeats and demonstrations never pay the repetition penalty.
    /// </summary>
    private static string DrawDistinct(string[] words, int i, Rng rng)
    {
        int j = i + rng.NextInt(words.Length - i);
        (words[i], words[j]) = (words[j], words[i]);
        return words[i];
    }

    /// <inheritdoc/>
    public double GoldReward(string prompt, string completion) => Score(prompt, completion).Gold;

    /// <summary>The gold reward with its parts (see the class remarks for the formula).</summary>
    /// <exception cref="FormatException"><paramref name="prompt"/> is not <c>TOPIC review:</c> for a known topic.</exception>
    public ReviewScore Score(string prompt, string completion)
    {
        var aspects = ReviewLexicon.Topics[Topic(prompt)];
        var words = Words(completion);
        if (words.Count == 0) return new ReviewScore(0, 0, 0, 0, 0, -1.0);
        int sentiment = 0, repeats = 0, offTopic = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < words.Count; i++)
        {
            string w = words[i];
            bool isNegation = w == ReviewLexicon.Negation;
            if (ReviewLexicon.Adjectives.TryGetValue(w, out int weight))
                sentiment += i > 0 && words[i - 1] == ReviewLexicon.Negation ? -weight : weight;
            else if (!isNegation && !aspects.Contains(w))
                offTopic++;
            if (!isNegation && !seen.Add(w)) repeats++;
        }
        int excess = Math.Max(0, words.Count - WordBudget);
        double gold = Math.Tanh(sentiment / 3.0) - 0.25 * repeats - 0.25 * offTopic - 0.1 * excess;
        return new ReviewScore(words.Count, sentiment, repeats, offTopic, excess, gold);
    }

    /// <summary>The topic of a prompt <c>TOPIC review:</c>.</summary>
    /// <exception cref="FormatException">The prompt is not of that form, or the topic is unknown.</exception>
    public static string Topic(string prompt)
    {
        if (!prompt.EndsWith(PromptSuffix, StringComparison.Ordinal)
            || !ReviewLexicon.Topics.ContainsKey(prompt[..^PromptSuffix.Length]))
            throw new FormatException($"'{prompt}' is not a review prompt of the form 'TOPIC review:' with TOPIC one of {string.Join(", ", ReviewLexicon.TopicList)}");
        return prompt[..^PromptSuffix.Length];
    }

    /// <summary>Runs of ASCII letters, lower-cased; everything else separates words.</summary>
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool letter = i < text.Length && char.IsAsciiLetter(text[i]);
            if (letter && start < 0) start = i;
            else if (!letter && start >= 0)
            {
                words.Add(text[start..i].ToLowerInvariant());
                start = -1;
            }
        }
        return words;
    }
}
