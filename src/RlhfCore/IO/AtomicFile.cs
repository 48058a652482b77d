namespace RlhfCore.IO;

/// <summary>
/// Writes a file so that it is never seen half-written: the content goes to a temporary file in the
/// same folder (so the rename stays on one file system), is flushed to disk, then renamed over the
/// target. If anything fails before the rename, the temporary file is deleted and an existing target
/// is left exactly as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with the bytes <paramref name="write"/> puts into the stream.</summary>
    public static void Write(string path, Action<FileStream> write)
    {
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                // Flush(true) reaches the disk, so a power loss after the rename cannot leave an empty file.
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files that writes into <paramref name="dir"/> left when their process was killed
    /// before it could clean up (<c>.NAME.GUID.tmp</c>). Call only while no other process writes into the folder.
    /// </summary>
    public static void RemoveLeftovers(string dir)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var f in Directory.GetFiles(dir, ".*.tmp"))
            if (IsTemporaryName(System.IO.Path.GetFileName(f))) TryDelete(f);
    }

    /// <summary>True for names <see cref="Write"/> gives its temporary files: <c>.NAME.</c> + 32 hex digits + <c>.tmp</c>.</summary>
    public static bool IsTemporaryName(string fileName)
    {
        const int Hex = 32, Suffix = 4; // ".tmp"
        if (fileName.Length < 1 + 1 + 1 + Hex + Suffix || fileName[0] != '.' || !fileName.EndsWith(".tmp", StringComparison.Ordinal)) return false;
        if (fileName[fileName.Length - Suffix - Hex - 1] != '.') return false;
        foreach (char c in fileName.AsSpan(fileName.Length - Suffix - Hex, Hex))
            if (!char.IsAsciiHexDigitLower(c)) return false;
        return true;
    }

    private static void TryDelete(string temp)
    {
        // The original error matters more than a leftover temporary file, so a failed delete is not rethrown.
        try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
