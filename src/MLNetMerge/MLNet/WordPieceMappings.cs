using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNetMerge.Text;

namespace MLNetMerge.MLNet;

/// <summary>Column names of the savable WordPiece steps (the intermediates are dropped at the end of the chain).</summary>
internal static class WordPieceColumns
{
    /// <summary>Copy of the user's text column that step 1 reads.</summary>
    public const string Text = "wordpiece_text";

    /// <summary>Step 1's candidate pieces (variable-length text vector).</summary>
    public const string Candidates = "wordpiece_candidates";

    /// <summary>Step 1's unit codes (variable-length int vector).</summary>
    public const string Structure = "wordpiece_structure";

    /// <summary>MapValue's ids of the candidates (id + 1; 0 = not in the vocabulary).</summary>
    public const string Ids = "wordpiece_ids";

    /// <summary>Token ids, int64 (T): the encoder's input name.</summary>
    public const string InputIds = "input_ids";

    /// <summary>Attention mask, int64 (T): the encoder's input name.</summary>
    public const string AttentionMask = "attention_mask";
}

/// <summary>Input row of step 1.</summary>
internal sealed class WordPieceTextRow
{
    [ColumnName(WordPieceColumns.Text)]
    public string Text { get; set; } = "";
}

/// <summary>Output row of step 1.</summary>
internal sealed class WordPieceCandidatesRow
{
    [ColumnName(WordPieceColumns.Candidates)]
    public string[] Candidates { get; set; } = [];

    [ColumnName(WordPieceColumns.Structure)]
    public int[] Structure { get; set; } = [];
}

/// <summary>Step 1 for lower-cased, accent-stripped vocabularies (<c>bert-base-uncased</c>, the text zoo). Contract saved in the zip.</summary>
[CustomMappingFactoryAttribute(Contract)]
internal sealed class UncasedWordPieceCandidatesFactory : CustomMappingFactory<WordPieceTextRow, WordPieceCandidatesRow>
{
    public const string Contract = "MLNetMerge.WordPiece.Candidates.Uncased.v1";

    public override Action<WordPieceTextRow, WordPieceCandidatesRow> GetMapping() => WordPieceCandidatesMapping.For(lowerCase: true);
}

/// <summary>Step 1 for cased vocabularies (no lower-casing, no accent stripping).</summary>
[CustomMappingFactoryAttribute(Contract)]
internal sealed class CasedWordPieceCandidatesFactory : CustomMappingFactory<WordPieceTextRow, WordPieceCandidatesRow>
{
    public const string Contract = "MLNetMerge.WordPiece.Candidates.Cased.v1";

    public override Action<WordPieceTextRow, WordPieceCandidatesRow> GetMapping() => WordPieceCandidatesMapping.For(lowerCase: false);
}

/// <summary>The mapping both step-1 factories return.</summary>
internal static class WordPieceCandidatesMapping
{
    public static Action<WordPieceTextRow, WordPieceCandidatesRow> For(bool lowerCase)
    {
        var basic = new BertBasicTokenizer(lowerCase, stripAccents: lowerCase, tokenizeCjk: true);
        return (input, output) =>
        {
            var candidates = new List<string>();
            var structure = new List<int>();
            WordPieceCandidates.Build(input.Text, basic, candidates, structure);
            output.Candidates = [.. candidates];
            output.Structure = [.. structure];
        };
    }
}

/// <summary>Input row of step 2.</summary>
internal sealed class WordPieceIdsRow
{
    [ColumnName(WordPieceColumns.Ids)]
    public int[] Ids { get; set; } = [];

    [ColumnName(WordPieceColumns.Structure)]
    public int[] Structure { get; set; } = [];
}
