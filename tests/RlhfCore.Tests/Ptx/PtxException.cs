namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Anything the emulator cannot do or that the PTX does wrong (an unknown instruction or modifier, an
/// out-of-bounds access, a diverged warp at a warp-synchronous instruction): the message names the
/// source line and the instruction text, so a failure points at the PTX, not at the emulator.
/// </summary>
public sealed class PtxException(string message) : Exception(message)
{
    /// <summary>"line N: `text`: what" — the one shape every emulator error has.</summary>
    public static PtxException At(int line, string text, string what) => new($"line {line}: `{text}`: {what}");
}
