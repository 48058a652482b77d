namespace RlhfCore.Data.Tasks;

/// <summary>The built-in gold-reward tasks by name, so commands can take <c>builtin:NAME</c>.</summary>
public static class GoldTasks
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["arithmetic", "reviews"];

    /// <summary>The task called <paramref name="name"/> (with or without the <c>builtin:</c> prefix), default settings.</summary>
    /// <exception cref="ArgumentException">No built-in task has that name.</exception>
    public static IGoldTask Create(string name) =>
        (name.StartsWith("builtin:", StringComparison.Ordinal) ? name["builtin:".Length..] : name) switch
        {
            "arithmetic" => new ArithmeticGoldTask(),
            "reviews" => new ReviewTask(),
            _ => throw new ArgumentException($"unknown built-in task '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
        };
}
