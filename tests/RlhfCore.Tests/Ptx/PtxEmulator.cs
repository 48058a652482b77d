using System.Runtime.InteropServices;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Runs a PTX entry on the CPU: a grid of CTAs, one after another (the kernels here do not communicate
/// between CTAs within a launch), each a <see cref="PtxCta"/>. A functional check of the PTX text —
/// addresses, fragment layouts, masks, control flow, numerics — not of timing or of races.
/// </summary>
public static class PtxEmulator
{
    /// <summary>Parses a module's text (the embedded kernels/ptx/NAME.ptx, or any other).</summary>
    public static IReadOnlyDictionary<string, PtxKernel> Load(string ptxText) => PtxParser.Parse(ptxText);

    /// <summary>The parameter block of a launch: the bytes of the launcher's own C# parameter struct.</summary>
    public static byte[] Params<T>(T p) where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref p, 1)).ToArray();

    /// <summary>
    /// Launches <paramref name="kernel"/> over <paramref name="grid"/> CTAs of <paramref name="block"/>
    /// threads, checking the block against .reqntid/.maxntid and the parameter block against the entry's.
    /// Returns the number of instructions issued (scheduling steps) over all CTAs.
    /// </summary>
    public static long Launch(PtxKernel kernel, PtxMemory memory, byte[] param, (int X, int Y, int Z) grid, (int X, int Y, int Z) block,
        long maxStepsPerCta = 2_000_000)
    {
        if (param.Length != kernel.ParamBytes)
            throw new PtxException($"{kernel.Name}: parameter block of {param.Length} bytes; the entry declares {kernel.ParamBytes}");
        int threads = block.X * block.Y * block.Z;
        if (block.X < 1 || block.Y < 1 || block.Z < 1 || threads > 1024) throw new PtxException($"{kernel.Name}: invalid block {block}");
        if (grid.X < 1 || grid.Y < 1 || grid.Z < 1) throw new PtxException($"{kernel.Name}: invalid grid {grid}");
        if (kernel.ReqNtid is { } req && req != block) throw new PtxException($"{kernel.Name}: block {block} but .reqntid {req}");
        if (kernel.MaxNtid is { } max && threads > max.X * max.Y * max.Z) throw new PtxException($"{kernel.Name}: block {block} exceeds .maxntid {max}");
        long steps = 0;
        for (int z = 0; z < grid.Z; z++)
            for (int y = 0; y < grid.Y; y++)
                for (int x = 0; x < grid.X; x++)
                {
                    var cta = new PtxCta(kernel, memory, param, block, (x, y, z), grid);
                    cta.Run(maxStepsPerCta);
                    steps += cta.Steps;
                }
        return steps;
    }
}
