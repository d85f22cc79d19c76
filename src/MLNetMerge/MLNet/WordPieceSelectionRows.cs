using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNetMerge.MLNet;

/// <summary>
/// Output rows and factories of step 2, one per supported sequence length T. A loaded CustomMapping knows only its
/// contract name and its row types, so T must live in a type: <c>[VectorType(T)]</c> on <c>input_ids</c> and
/// <c>attention_mask</c>, which ONNX needs at a fixed size.
/// </summary>
internal interface ITokenIdsRow
{
    long[] InputIds { get; set; }

    long[] AttentionMask { get; set; }
}

/// <summary>Step 2 for the row type of one sequence length.</summary>
internal abstract class WordPieceSelectionFactory<TRow> : CustomMappingFactory<WordPieceIdsRow, TRow>
    where TRow : class, ITokenIdsRow, new()
{
    protected abstract int Length { get; }

    public override Action<WordPieceIdsRow, TRow> GetMapping()
    {
        int t = Length;
        return (input, output) =>
        {
            var ids = new long[t];
            var mask = new long[t];
            WordPieceSelection.Select(input.Ids, input.Structure, ids, mask);
            output.InputIds = ids;
            output.AttentionMask = mask;
        };
    }
}

/// <summary>The sequence lengths step 2 supports, with their contracts and factories.</summary>
internal static class WordPieceSelectionLengths
{
    /// <summary>Supported T.</summary>
    public static readonly int[] Supported = [8, 16, 32, 64, 128, 256, 384, 512];

    /// <summary>Step 2 at length <paramref name="t"/> as a CustomMapping estimator (contract from the factory's attribute).</summary>
    /// <exception cref="ArgumentException"><paramref name="t"/> is not supported.</exception>
    public static IEstimator<ITransformer> Estimator(MLContext ml, int t) => t switch
    {
        8 => Map(ml, new WordPieceSelect8()),
        16 => Map(ml, new WordPieceSelect16()),
        32 => Map(ml, new WordPieceSelect32()),
        64 => Map(ml, new WordPieceSelect64()),
        128 => Map(ml, new WordPieceSelect128()),
        256 => Map(ml, new WordPieceSelect256()),
        384 => Map(ml, new WordPieceSelect384()),
        512 => Map(ml, new WordPieceSelect512()),
        _ => throw new ArgumentException($"sequence length {t} is not supported by the savable WordPiece steps; use one of {string.Join(", ", Supported)}.", nameof(t)),
    };

    private static IEstimator<ITransformer> Map<TRow>(MLContext ml, WordPieceSelectionFactory<TRow> factory) where TRow : class, ITokenIdsRow, new() =>
        ml.Transforms.CustomMapping(factory.GetMapping(), ContractOf(factory.GetType()));

    /// <summary>The contract name a factory type declares.</summary>
    public static string ContractOf(Type factory) =>
        factory.GetCustomAttribute<CustomMappingFactoryAttributeAttribute>()?.ContractName
        ?? throw new InvalidOperationException($"{factory.Name} has no CustomMappingFactoryAttribute.");
}

internal sealed class TokenIds8 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(8)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(8)] public long[] AttentionMask { get; set; } = [];
}

internal sealed class TokenIds16 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(16)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(16)] public long[] AttentionMask { get; set; } = [];
}

internal sealed class TokenIds32 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(32)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(32)] public long[] AttentionMask { get; set; } = [];
}

internal sealed class TokenIds64 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(64)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(64)] public long[] AttentionMask { get; set; } = [];
}

internal sealed class TokenIds128 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(128)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(128)] public long[] AttentionMask { get; set; } = [];
}

internal sealed class TokenIds256 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(256)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(256)] public long[] AttentionMask { get; set; } = [];
}

internal sealed class TokenIds384 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(384)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(384)] public long[] AttentionMask { get; set; } = [];
}

internal sealed class TokenIds512 : ITokenIdsRow
{
    [ColumnName(WordPieceColumns.InputIds), VectorType(512)] public long[] InputIds { get; set; } = [];
    [ColumnName(WordPieceColumns.AttentionMask), VectorType(512)] public long[] AttentionMask { get; set; } = [];
}

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.8.v1")]
internal sealed class WordPieceSelect8 : WordPieceSelectionFactory<TokenIds8> { protected override int Length => 8; }

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.16.v1")]
internal sealed class WordPieceSelect16 : WordPieceSelectionFactory<TokenIds16> { protected override int Length => 16; }

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.32.v1")]
internal sealed class WordPieceSelect32 : WordPieceSelectionFactory<TokenIds32> { protected override int Length => 32; }

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.64.v1")]
internal sealed class WordPieceSelect64 : WordPieceSelectionFactory<TokenIds64> { protected override int Length => 64; }

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.128.v1")]
internal sealed class WordPieceSelect128 : WordPieceSelectionFactory<TokenIds128> { protected override int Length => 128; }

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.256.v1")]
internal sealed class WordPieceSelect256 : WordPieceSelectionFactory<TokenIds256> { protected override int Length => 256; }

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.384.v1")]
internal sealed class WordPieceSelect384 : WordPieceSelectionFactory<TokenIds384> { protected override int Length => 384; }

[CustomMappingFactoryAttribute("MLNetMerge.WordPiece.Select.512.v1")]
internal sealed class WordPieceSelect512 : WordPieceSelectionFactory<TokenIds512> { protected override int Length => 512; }
