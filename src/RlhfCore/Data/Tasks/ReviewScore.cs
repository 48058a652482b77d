namespace RlhfCore.Data.Tasks;

/// <summary>The parts of a <see cref="ReviewTask"/> gold score, so a study can see why a completion scored as it did.</summary>
/// <param name="Words">Words in the completion (runs of ASCII letters, lower-cased).</param>
/// <param name="Sentiment">Sum of adjective weights, each negated when <c>not</c> precedes it.</param>
/// <param name="Repeats">Words (other than <c>not</c>) that already occurred earlier in the completion.</param>
/// <param name="OffTopic">Words that are neither adjectives, <c>not</c>, nor aspects of the prompt's topic.</param>
/// <param name="ExcessWords">Words beyond the task's word budget.</param>
/// <param name="Gold">The gold reward.</param>
public readonly record struct ReviewScore(int Words, int Sentiment, int Repeats, int OffTopic, int ExcessWords, double Gold);
