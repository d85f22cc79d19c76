using Microsoft.ML;
using Microsoft.ML.Transforms;

namespace MLNetMerge.MLNet;

/// <summary>
/// WordPiece tokenization as ML.NET steps that <c>mlContext.Model.Save</c> stores and a fresh process loads, equal to
/// the project's Hugging Face-faithful <see cref="Text.WordPieceTokenizer"/> (BERT names for the special tokens,
/// <c>[CLS] text [SEP]</c>, truncated and padded to T, <c>MaxInputCharactersPerWord</c> 100):
/// <code>
/// CopyColumns(text)                 → wordpiece_text
/// CustomMapping (step 1, stateless) → wordpiece_candidates, wordpiece_structure   (basic tokenization, every piece)
/// MapValue (vocabulary → id + 1)    → wordpiece_ids                               (the zip holds the vocabulary)
/// CustomMapping (step 2, stateless) → input_ids, attention_mask (int64, T each)   (greedy longest match, specials)
/// DropColumns(intermediates)
/// </code>
/// A CustomMapping's zip stores only its contract name, so no step holds state: the vocabulary lives in MapValue's
/// saved table. The loading side must call <see cref="RegisterAssembly"/> (ML.NET finds factories only in registered
/// assemblies).
/// </summary>
internal static class SavableWordPiece
{
    /// <summary>Makes this assembly's CustomMapping factories known to <paramref name="ml"/> (needed before <c>Model.Load</c>).</summary>
    public static void RegisterAssembly(MLContext ml)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ml.ComponentCatalog.RegisterAssembly(typeof(SavableWordPiece).Assembly);
    }

    /// <summary>The tokenization steps from <paramref name="textColumnName"/> to <c>input_ids</c> and <c>attention_mask</c>.</summary>
    /// <param name="ml">The context.</param>
    /// <param name="vocabulary">The tokens in id order (<c>vocab.txt</c> lines); a repeated token maps to its last id.</param>
    /// <param name="textColumnName">The text column.</param>
    /// <param name="sequenceLength">T, one of <see cref="WordPieceSelectionLengths.Supported"/>.</param>
    /// <param name="lowerCase">Lower-case and strip accents (uncased vocabularies), as <c>WordPieceTokenizer.Options.LowerCase</c>.</param>
    /// <exception cref="ArgumentException">An unsupported length, or a vocabulary without [CLS], [SEP], [PAD] or [UNK].</exception>
    public static IEstimator<ITransformer> Create(MLContext ml, IReadOnlyList<string> vocabulary, string textColumnName, int sequenceLength, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++) ids[vocabulary[i]] = i + 1; // 0 stays free: MapValue's value for a missing piece
        var missing = WordPieceCandidates.Specials.Where(s => !ids.ContainsKey(s)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"the vocabulary ({vocabulary.Count} tokens) has no {string.Join(", ", missing)}; the savable WordPiece steps need [CLS], [SEP], [PAD] and [UNK].", nameof(vocabulary));
        var select = WordPieceSelectionLengths.Estimator(ml, sequenceLength);
        RegisterAssembly(ml);
        var candidates = lowerCase
            ? ml.Transforms.CustomMapping(new UncasedWordPieceCandidatesFactory().GetMapping(), UncasedWordPieceCandidatesFactory.Contract)
            : ml.Transforms.CustomMapping(new CasedWordPieceCandidatesFactory().GetMapping(), CasedWordPieceCandidatesFactory.Contract);
        return ml.Transforms.CopyColumns(WordPieceColumns.Text, textColumnName)
            .Append(candidates)
            .Append(ml.Transforms.Conversion.MapValue(WordPieceColumns.Ids, ids, WordPieceColumns.Candidates))
            .Append(select)
            .Append(ml.Transforms.DropColumns(WordPieceColumns.Text, WordPieceColumns.Candidates, WordPieceColumns.Structure, WordPieceColumns.Ids));
    }

    /// <summary>The shape dictionary an ONNX text encoder needs behind these steps: <c>input_ids</c> and <c>attention_mask</c> as [1, T].</summary>
    public static IDictionary<string, int[]> ShapeDictionary(int sequenceLength) => new Dictionary<string, int[]>
    {
        [WordPieceColumns.InputIds] = [1, sequenceLength],
        [WordPieceColumns.AttentionMask] = [1, sequenceLength],
    };
}
