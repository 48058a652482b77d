namespace RlhfCore.Data;

/// <summary>
/// One supervised fine-tuning example as written in the dataset. A <c>{"text"}</c> line becomes an empty
/// <see cref="Prompt"/> with the text as <see cref="Completion"/>, so every token of it is trained on.
/// </summary>
/// <param name="Prompt">Context the model sees but is not trained to produce ("" for plain text).</param>
/// <param name="Completion">Text the model is trained to produce.</param>
/// <param name="IsPlainText">True for a <c>{"text"}</c> line, false for <c>{"prompt","completion"}</c>.</param>
/// <param name="FilePath">Source file, for error messages.</param>
/// <param name="Line">Source line (1-based), for error messages.</param>
public sealed record SftRecord(string Prompt, string Completion, bool IsPlainText, string FilePath, int Line)
{
    /// <summary>The JSON key the completion came from, for error messages.</summary>
    public string CompletionField => IsPlainText ? "text" : "completion";
}
