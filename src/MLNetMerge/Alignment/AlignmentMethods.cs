using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>A registered alignment stage: its recipe name, the data it consumes, its paper, its declared parameters (the one
/// place their names, defaults, ranges and meaning are written), and how the recipe form becomes an estimator and saved
/// state becomes a fitted model again.</summary>
/// <param name="Name">Recipe name.</param>
/// <param name="Consumes">Data it consumes.</param>
/// <param name="MergesEveryTask">Whether it merges the task vectors again from every task's data (AdaMerging, CART++,
/// RegMean, Fisher, trust region, Tinting), so that it cannot be fitted for one task alone; the other stages fit per task.</param>
/// <param name="Reference">Paper: authors, year, title, arXiv id.</param>
/// <param name="Parameters">Declared parameters.</param>
/// <param name="Create">Estimator from recipe parameters and the context's seed.</param>
/// <param name="Restore">Fitted model from the merged model, the stage's parameters and its saved state.</param>
internal sealed record AlignmentMethod(string Name, DataRequirement Consumes, bool MergesEveryTask, string Reference, IReadOnlyList<MethodParameter> Parameters,
    Func<IReadOnlyDictionary<string, ParameterValue>, ulong, IAlignmentEstimator> Create,
    Func<MergedModel, IReadOnlyDictionary<string, ParameterValue>, IReadOnlyList<AlignedTensor>, AlignedModel> Restore);

/// <summary>The explicit list of alignment stages (no registration by side effect).</summary>
internal static class AlignmentMethods
{
    /// <summary>Kong et al. 2024, the paper of FT-Classifier, KNN Eval and aligned transformations.</summary>
    internal const string KongEtAl2024 = "Kong et al. 2024, Fine-tuning Aligned Classifiers for Merging Outputs: Towards a Superior Evaluation Protocol in Model Merging, arXiv:2412.13526";

    /// <summary>Jung et al. 2024, the paper of Model Tinting.</summary>
    internal const string JungEtAl2024 = "Jung et al. 2024, Tint Your Models Task-wise for Improved Multi-task Model Merging, arXiv:2412.19098";

    /// <summary>Every stage, in the order tables list them.</summary>
    public static IReadOnlyList<AlignmentMethod> All { get; } =
    [
        new(FtClassifierEstimator.MethodName, DataRequirement.UnlabeledTest, false, KongEtAl2024 + " (FT-Classifier)", FtClassifierEstimator.Declared,
            (p, seed) => new FtClassifierEstimator(p, seed), FtClassifierModel.Restore),
        new(AlignedTransformEstimator.MethodName, DataRequirement.UnlabeledTest, false, KongEtAl2024 + " (aligned transformations)", AlignedTransformEstimator.Declared,
            (p, seed) => new AlignedTransformEstimator(p, seed), AlignedTransformModel.Restore),
        new(SurgeryEstimator.MethodName, DataRequirement.UnlabeledTest, false,
            "Yang et al. 2024, Representation Surgery for Multi-Task Model Merging, arXiv:2402.02705", SurgeryEstimator.Declared,
            (p, seed) => new SurgeryEstimator(p, seed), SurgeryModel.Restore),
        new(AdaMerging.MethodName, DataRequirement.UnlabeledTest, true,
            "Yang et al. 2024, AdaMerging: Adaptive Model Merging for Multi-Task Learning, arXiv:2310.02575 (vectors: ties = AdaMerging++)", AdaMerging.Declared,
            (p, seed) => AdaMerging.FromParameters(p, seed),
            (m, p, s) => MergedEncoderModel.Restore(m, AdaMerging.MethodName, p, s)),
        new(CartPlusPlus.MethodName, DataRequirement.UnlabeledTest, true,
            "Choi et al. 2024, Revisiting Weight Averaging for Model Merging (CART++), arXiv:2412.12153", CartPlusPlus.Declared,
            (p, seed) => CartPlusPlus.FromParameters(p, seed),
            (m, p, s) => MergedEncoderModel.Restore(m, CartPlusPlus.MethodName, p, s)),
        new(RegMean.MethodName, DataRequirement.UnlabeledTest, true,
            "Jin et al. 2023, Dataless Knowledge Fusion by Merging Weights of Language Models (RegMean), arXiv:2212.09849", RegMean.Declared,
            (p, _) => RegMean.FromParameters(p),
            (m, p, s) => MergedEncoderModel.Restore(m, RegMean.MethodName, p, s)),
        new(FisherMerging.MethodName, DataRequirement.UnlabeledTest, true,
            "Matena & Raffel 2022, Merging Models with Fisher-Weighted Averaging, arXiv:2111.09832", FisherMerging.Declared,
            (p, seed) => FisherMerging.FromParameters(p, seed),
            (m, p, s) => MergedEncoderModel.Restore(m, FisherMerging.MethodName, p, s)),
        new(TrustRegionMerging.MethodName, DataRequirement.UnlabeledTest, true,
            "Sun et al. 2025, Task Arithmetic in Trust Region (TATR, with gradients), arXiv:2501.15065", TrustRegionMerging.Declared,
            (p, _) => TrustRegionMerging.FromParameters(p),
            (m, p, s) => MergedEncoderModel.Restore(m, TrustRegionMerging.MethodName, p, s)),
        new(TintingSettings.Tinting, DataRequirement.UnlabeledTest, true, JungEtAl2024 + " (Model Tinting)", TintingSettings.Declared(TintingSettings.Tinting),
            (p, seed) => new TintingEstimator(TintingSettings.FromParameters(TintingSettings.Tinting, p), seed),
            (merged, p, state) => TintedModel.Restore(merged, TintingSettings.Tinting, p, state)),
        new(TintingSettings.TintingPlusPlus, DataRequirement.UnlabeledTest, true, JungEtAl2024 + " (Tinting++: confidence-based filtering)", TintingSettings.Declared(TintingSettings.TintingPlusPlus),
            (p, seed) => new TintingEstimator(TintingSettings.FromParameters(TintingSettings.TintingPlusPlus, p), seed),
            (merged, p, state) => TintedModel.Restore(merged, TintingSettings.TintingPlusPlus, p, state)),
    ];

    /// <summary>The stage called <paramref name="name"/>.</summary>
    /// <exception cref="RecipeException">No stage has that name.</exception>
    public static AlignmentMethod Find(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new RecipeException(null, $"unknown alignment method '{name}'; expected one of: {string.Join(", ", All.Select(m => m.Name))}.");
}
