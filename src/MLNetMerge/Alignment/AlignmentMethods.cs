using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>A registered alignment stage: its recipe name, the data it consumes, its paper, and how the recipe form
/// becomes an estimator and saved state becomes a fitted model again.</summary>
/// <param name="Name">Recipe name.</param>
/// <param name="Consumes">Data it consumes.</param>
/// <param name="Reference">Paper.</param>
/// <param name="Create">Estimator from recipe parameters and the context's seed.</param>
/// <param name="Restore">Fitted model from the merged model, the stage's parameters and its saved state.</param>
public sealed record AlignmentMethod(string Name, DataRequirement Consumes, string Reference,
    Func<IReadOnlyDictionary<string, ParameterValue>, ulong, IAlignmentEstimator> Create,
    Func<MergedModel, IReadOnlyDictionary<string, ParameterValue>, IReadOnlyList<AlignedTensor>, AlignedModel> Restore);

/// <summary>The explicit list of alignment stages (no registration by side effect).</summary>
public static class AlignmentMethods
{
    /// <summary>Every stage, in the order tables list them.</summary>
    public static IReadOnlyList<AlignmentMethod> All { get; } =
    [
        new(FtClassifierEstimator.MethodName, DataRequirement.UnlabeledTest, "Representation alignment after merging, FT-Classifier (seed 000)",
            (p, seed) => new FtClassifierEstimator(p, seed), FtClassifierModel.Restore),
        new(AlignedTransformEstimator.MethodName, DataRequirement.UnlabeledTest, "Representation alignment after merging, aligned transformations (seed 000, Table 1)",
            (p, seed) => new AlignedTransformEstimator(p, seed), AlignedTransformModel.Restore),
        new(SurgeryEstimator.MethodName, DataRequirement.UnlabeledTest, "Yang et al. 2024, Representation Surgery for Multi-Task Model Merging",
            (p, seed) => new SurgeryEstimator(p, seed), SurgeryModel.Restore),
        new(AdaMerging.MethodName, DataRequirement.UnlabeledTest,
            "Yang et al. 2024, AdaMerging: Adaptive Model Merging for Multi-Task Learning, arXiv:2310.02575 (vectors: ties = AdaMerging++)",
            (p, seed) => AdaMerging.FromParameters(p, seed),
            (m, p, s) => MergedEncoderModel.Restore(m, AdaMerging.MethodName, p, s)),
        new(CartPlusPlus.MethodName, DataRequirement.UnlabeledTest,
            "Choi et al. 2024, Revisiting Weight Averaging for Model Merging (CART++), arXiv:2412.12153",
            (p, seed) => CartPlusPlus.FromParameters(p, seed),
            (m, p, s) => MergedEncoderModel.Restore(m, CartPlusPlus.MethodName, p, s)),
        new(RegMean.MethodName, DataRequirement.UnlabeledTest,
            "Jin et al. 2023, Dataless Knowledge Fusion by Merging Weights of Language Models (RegMean), arXiv:2212.09849",
            (p, _) => RegMean.FromParameters(p),
            (m, p, s) => MergedEncoderModel.Restore(m, RegMean.MethodName, p, s)),
        new(FisherMerging.MethodName, DataRequirement.UnlabeledTest,
            "Matena & Raffel 2022, Merging Models with Fisher-Weighted Averaging, arXiv:2111.09832",
            (p, seed) => FisherMerging.FromParameters(p, seed),
            (m, p, s) => MergedEncoderModel.Restore(m, FisherMerging.MethodName, p, s)),
        new("tinting", DataRequirement.UnlabeledTest, "Model Tinting (seed 003)",
            (p, seed) => new TintingEstimator(TintingSettings.FromParameters(TintingSettings.Tinting, p), seed),
            (merged, p, state) => TintedModel.Restore(merged, TintingSettings.Tinting, p, state)),
        new("tinting_plus_plus", DataRequirement.UnlabeledTest, "Model Tinting++ (seed 003)",
            (p, seed) => new TintingEstimator(TintingSettings.FromParameters(TintingSettings.TintingPlusPlus, p), seed),
            (merged, p, state) => TintedModel.Restore(merged, TintingSettings.TintingPlusPlus, p, state)),
    ];

    /// <summary>The stage called <paramref name="name"/>.</summary>
    /// <exception cref="RecipeException">No stage has that name.</exception>
    public static AlignmentMethod Find(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new RecipeException(null, $"unknown alignment method '{name}'; expected one of: {string.Join(", ", All.Select(m => m.Name))}.");
}
