namespace RlhfCore.Cli.Label;

/// <summary>What a key means in a labeling session.</summary>
public enum LabelKey
{
    /// <summary>Completion A is better.</summary>
    A,
    /// <summary>Completion B is better.</summary>
    B,
    /// <summary>A tie.</summary>
    Tie,
    /// <summary>Skip this item.</summary>
    Skip,
    /// <summary>Retract the last judgment and show its item again.</summary>
    Undo,
    /// <summary>Stop (everything is saved; run again to resume).</summary>
    Quit,
}

/// <summary>Parses typed keys: the letters a b t s u q, or the words tie skip undo quit, any case.</summary>
public static class LabelKeys
{
    /// <summary>The help line shown under each item.</summary>
    public const string Help = "[a] A is better  [b] B is better  [t] tie  [s] skip  [u] undo  [q] quit";

    /// <summary>The key <paramref name="typed"/> means, or null when it is not one.</summary>
    public static LabelKey? Parse(string typed) => typed.Trim().ToLowerInvariant() switch
    {
        "a" => LabelKey.A,
        "b" => LabelKey.B,
        "t" or "tie" => LabelKey.Tie,
        "s" or "skip" => LabelKey.Skip,
        "u" or "undo" => LabelKey.Undo,
        "q" or "quit" => LabelKey.Quit,
        _ => null,
    };
}
