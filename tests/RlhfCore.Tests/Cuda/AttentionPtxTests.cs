using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Cuda;

/// <summary>
/// Host-side checks of the hand-written attention PTX (no GPU needed): the files are embedded, declare
/// the entry points the launchers use, target sm_80 with PTX 7.8, open with their documentation block,
/// and each entry's parameter block has the size of its C# mirror.
/// </summary>
[TestFixture]
public sealed class AttentionPtxTests
{
    private static readonly (string File, string Entry, Type Params)[] Entries =
    [
        ("attention_forward.ptx", "attention_forward", typeof(AttentionForwardParams)),
        ("attention_backward.ptx", "attention_backward_dot", typeof(AttentionDotParams)),
        ("attention_backward.ptx", "attention_backward_dkdv", typeof(AttentionBackwardParams)),
        ("attention_backward.ptx", "attention_backward_dq", typeof(AttentionBackwardParams)),
    ];

    [Test]
    public void EntryParameterBlocksMatchTheirCSharpMirrors()
    {
        foreach (var (file, entry, type) in Entries)
        {
            string ptx = KernelSources.Ptx(file);
            var m = Regex.Match(ptx, @"\.visible\s+\.entry\s+" + entry + @"\(\.param\s+\.align\s+8\s+\.b8\s+prm\[(\d+)\]\)");
            Assert.That(m.Success, $"{file} has no entry {entry} with a single .param block");
            Assert.That(Marshal.SizeOf(type), Is.EqualTo(int.Parse(m.Groups[1].Value)), $"sizeof({type.Name}) vs {file}/{entry}");
        }
    }

    [Test]
    public void PtxFilesTargetSm80AndOpenWithTheirDocumentation()
    {
        foreach (string file in Entries.Select(e => e.File).Distinct())
        {
            string ptx = KernelSources.Ptx(file);
            Assert.That(ptx, Does.StartWith("//"), $"{file} must open with its comment block");
            foreach (string word in new[] { "Launch", "Parameters", "Registers", "grid" })
                Assert.That(ptx, Does.Contain(word), $"{file}: header should describe '{word}'");
            Assert.That(ptx, Does.Contain(".version 7.8"));
            Assert.That(ptx, Does.Contain(".target sm_80"));
        }
    }
}
