namespace RlhfCore.Data.Tasks;

/// <summary>
/// The closed vocabulary of <see cref="ReviewTask"/>: what is reviewed (topics), the aspects of each
/// topic, and the sentiment adjectives with their weights. Small on purpose, so a byte-level model
/// learns the language in minutes and the gold score can be computed exactly.
/// </summary>
public static class ReviewLexicon
{
    /// <summary>The word that flips the sign of the adjective right after it.</summary>
    public const string Negation = "not";

    /// <summary>Sentiment adjectives and their weights, from +2 (very positive) to −2 (very negative).</summary>
    public static readonly IReadOnlyDictionary<string, int> Adjectives = new Dictionary<string, int>
    {
        ["great"] = 2, ["superb"] = 2, ["perfect"] = 2,
        ["good"] = 1, ["nice"] = 1, ["fresh"] = 1, ["fast"] = 1, ["clean"] = 1,
        ["okay"] = 0, ["plain"] = 0, ["average"] = 0,
        ["slow"] = -1, ["bland"] = -1, ["dull"] = -1, ["noisy"] = -1,
        ["awful"] = -2, ["terrible"] = -2, ["broken"] = -2,
    };

    /// <summary>The adjectives in a fixed order (sampling draws from this list).</summary>
    public static readonly IReadOnlyList<string> AdjectiveList = [.. Adjectives.Keys];

    /// <summary>What can be reviewed, each with the aspects a review of it may mention.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Topics = new Dictionary<string, IReadOnlyList<string>>
    {
        ["pizza"] = ["crust", "sauce", "cheese", "staff", "price"],
        ["hotel"] = ["room", "bed", "staff", "view", "price"],
        ["phone"] = ["screen", "battery", "camera", "case", "price"],
        ["film"] = ["plot", "cast", "music", "ending", "pacing"],
        ["cafe"] = ["coffee", "cake", "staff", "music", "price"],
    };

    /// <summary>The topics in a fixed order (sampling draws from this list).</summary>
    public static readonly IReadOnlyList<string> TopicList = [.. Topics.Keys];
}
