using System.Runtime.InteropServices;

namespace RlhfCore.Embedding;

/// <summary>
/// Checked views of the caller's arguments: pointers become spans of the length the call implies, a
/// required NULL or a bad dimension is an error naming the argument, and strings are read as UTF-8.
/// </summary>
internal static unsafe class NativeArgs
{
    /// <summary><paramref name="count"/> elements at <paramref name="p"/>, which must not be NULL.</summary>
    public static ReadOnlySpan<T> In<T>(T* p, long count, string name) where T : unmanaged
    {
        if (p == null) throw new ArgumentException($"{name} is NULL");
        return new ReadOnlySpan<T>(p, Length(count, name));
    }

    /// <summary>Like <see cref="In"/>, but NULL gives an empty span (an optional input).</summary>
    public static ReadOnlySpan<T> Optional<T>(T* p, long count, string name) where T : unmanaged =>
        p == null ? default : new ReadOnlySpan<T>(p, Length(count, name));

    /// <summary><paramref name="count"/> writable elements at <paramref name="p"/>, which must not be NULL.</summary>
    public static Span<T> Out<T>(T* p, long count, string name) where T : unmanaged
    {
        if (p == null) throw new ArgumentException($"{name} is NULL");
        return new Span<T>(p, Length(count, name));
    }

    /// <summary>The single output <paramref name="p"/> points to, which must not be NULL.</summary>
    public static ref T Ref<T>(T* p, string name) where T : unmanaged
    {
        if (p == null) throw new ArgumentException($"{name} is NULL");
        return ref *p;
    }

    /// <summary>The UTF-8 string at <paramref name="p"/>, which must not be NULL.</summary>
    public static string Text(byte* p, string name) =>
        p == null ? throw new ArgumentException($"{name} is NULL") : Marshal.PtrToStringUTF8((nint)p)!;

    /// <summary>The UTF-8 string at <paramref name="p"/>, or null for NULL.</summary>
    public static string? OptionalText(byte* p) => p == null ? null : Marshal.PtrToStringUTF8((nint)p);

    /// <summary>Throws unless <paramref name="value"/> is at least <paramref name="min"/>.</summary>
    public static int AtLeast(int value, int min, string name) =>
        value >= min ? value : throw new ArgumentException($"{name} must be at least {min}, got {value}");

    private static int Length(long count, string name) =>
        count is >= 0 and <= int.MaxValue ? (int)count
        : throw new ArgumentException($"{name} would hold {count} elements, more than one call can pass ({int.MaxValue})");
}
