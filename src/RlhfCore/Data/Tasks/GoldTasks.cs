namespace RlhfCore.Data.Tasks;

/// <summary>The built-in gold-reward tasks by name, so commands can take <c>builtin:NAME</c>.</summary>
public static class GoldTasks
{
    /// <summary>The names <see cref="Create(string)"/> accepts.</summary>
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

    /// <summary>
    /// The task called <paramref name="name"/>, with arithmetic built from <paramref name="arithmetic"/> (its operand
    /// range and demonstration errors) instead of the defaults; other tasks as <see cref="Create(string)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No built-in task has that name.</exception>
    public static IGoldTask Create(string name, ArithmeticTask arithmetic) =>
        Create(name) switch { ArithmeticGoldTask => new ArithmeticGoldTask(arithmetic), var task => task };
}
