namespace RlhfCore.Feedback;

/// <summary>
/// Splits Anthropic HH transcripts into prompt and completions, as TRL's <c>extract_prompt</c> and the
/// HH scripts do: the prompt is the longest prefix the two transcripts share that ends at an
/// <c>\n\nAssistant:</c> marker, the completions are what follows in each. Only the shared part is
/// searched, so a marker inside a completion (a response that goes on to play both roles) never
/// becomes part of the prompt.
/// </summary>
public static class TranscriptSplitter
{
    /// <summary>The marker that opens an assistant turn.</summary>
    public const string AssistantMarker = "\n\nAssistant:";

    /// <summary>
    /// The prompt and both completions of <paramref name="chosen"/> and <paramref name="rejected"/>, or
    /// null with <paramref name="problem"/> set when the transcripts share no assistant marker.
    /// </summary>
    public static (string Prompt, string Chosen, string Rejected)? Split(string chosen, string rejected, out string? problem)
    {
        int shared = chosen.AsSpan().CommonPrefixLength(rejected);
        int marker = chosen.AsSpan(0, shared).LastIndexOf(AssistantMarker, StringComparison.Ordinal);
        if (marker < 0)
        {
            problem = shared == 0
                ? "the transcripts share no prefix, so there is no prompt (an HH pair repeats the conversation and differs in the last \\n\\nAssistant: turn)"
                : "the transcripts' shared prefix has no \\n\\nAssistant: marker, so the prompt cannot be found";
            return null;
        }
        problem = null;
        int end = marker + AssistantMarker.Length;
        return (chosen[..end], chosen[end..], rejected[end..]);
    }
}
