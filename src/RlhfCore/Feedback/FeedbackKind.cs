namespace RlhfCore.Feedback;

/// <summary>The layouts of human-feedback JSONL (keys as in Hugging Face TRL). One file holds one kind.</summary>
public enum FeedbackKind
{
    /// <summary><c>{"prompt","chosen","rejected"}</c> (optional <c>"margin"</c>): one completion preferred over another.</summary>
    Pairs,
    /// <summary>
    /// Anthropic HH style <c>{"chosen","rejected"}</c>: two whole transcripts whose longest shared prefix
    /// ending at the last <c>\n\nAssistant:</c> is the prompt (optional <c>"margin"</c>).
    /// </summary>
    Transcripts,
    /// <summary><c>{"prompt","completions":[best … worst]}</c>: a K-wise ranking, K ≥ 2.</summary>
    Rankings,
    /// <summary><c>{"prompt","completion","rating"}</c>: a numeric score for one completion.</summary>
    Ratings,
    /// <summary><c>{"prompt","completion","label": true|false}</c>: a thumbs up or down for one completion.</summary>
    Approvals,
}
