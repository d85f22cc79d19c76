using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Api;

using MergeEstimator = global::MLNetMerge.MergeEstimator; // not the legacy test-support type of the same name

/// <summary>
/// The catalog entries of the round-2 methods (TSV-M, ISO-C, ISO-CTS, WUDI, nuslerp, multislerp, karcher, SCE, and LiNeS in the merge cases) and
/// mergekit's composite names: each Options class carries exactly its method's declared parameters with the declared
/// defaults, and a catalog merge with non-default settings writes the same bytes as the engine run on the recipe that
/// states those settings (two tasks of the vision zoo, so nuslerp's two-model rule holds); a short overload, whose seed
/// the context draws, resolves to the recipe's parameters.
/// </summary>
[TestClass]
public sealed class RoundTwoCatalogTests
{
    private static readonly string[] Tasks = ["fashion", "digits"];

    /// <summary>The new Options classes and their registry names.</summary>
    private static readonly (Type Options, string Method)[] RoundTwo =
    [
        (typeof(TsvMergeOptions), "tsv_m"), (typeof(IsoCOptions), "iso_c"), (typeof(IsoCtsOptions), "iso_cts"), (typeof(WudiOptions), "wudi"),
        (typeof(NuSlerpOptions), "nuslerp"), (typeof(MultiSlerpOptions), "multislerp"), (typeof(KarcherOptions), "karcher"), (typeof(SceOptions), "sce"),
    ];


    private static IEnumerable<(PropertyInfo Property, string Name)> RecipeProperties(Type t) =>
        t.GetProperties().Select(p => (p, p.GetCustomAttribute<RecipeParameterAttribute>()?.Name)).Where(x => x.Name is not null).Select(x => (x.p, x.Name!));

    [TestMethod]
    public void RoundTwoOptions_CarryExactlyTheDeclaredParameters_WithTheDeclaredDefaults()
    {
        foreach (var (type, method) in RoundTwo)
        {
            var options = (MergeOptions)Activator.CreateInstance(type)!;
            Assert.AreEqual(method, options.MethodName, type.Name);
            var declared = MergeMethods.Find(method).Method.Parameters;
            var expectedNames = declared.Where(p => !p.PerModel).Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
            var names = RecipeProperties(type).Select(x => x.Name).Order(StringComparer.Ordinal).ToList();
            CollectionAssert.AreEqual(expectedNames, names, $"{type.Name}: {string.Join(", ", names)} against declared {string.Join(", ", expectedNames)}");
            AssertDefaults(options, method);
            foreach (var (property, name) in RecipeProperties(type).Where(x => x.Property.PropertyType.IsEnum))
            {
                // every member of the option enum is one of the declared words, and every word has a member
                var words = Enum.GetValues(property.PropertyType).Cast<Enum>().Select(Declared.Word).ToList();
                CollectionAssert.AreEquivalent(declared.First(p => p.Name == name).Choices.ToList(), words, $"{type.Name}.{property.Name}");
            }
        }
        Assert.AreEqual("all_2d", Declared.Word(MatrixSelection.All2d));
        Assert.AreEqual(MatrixSelection.All2d, Declared.ToEnum<MatrixSelection>("all_2d"));
        Assert.AreEqual("elect_mask", Declared.Word(EmrMode.ElectMask), "a word without digits keeps its old spelling");
    }

    [TestMethod]
    public void EveryPublicOptionsClass_SetsOnlyDeclaredParameters_AtTheirDefaults()
    {
        var types = typeof(MergeOptions).Assembly.GetTypes().Where(t => t.IsPublic && !t.IsAbstract && t.IsSubclassOf(typeof(MergeOptions))).ToList();
        foreach (var type in types)
        {
            var options = (MergeOptions)Activator.CreateInstance(type)!;
            AssertDefaults(options, options.MethodName);
        }
        // each registry method has its public Options class
        CollectionAssert.AreEquivalent(MergeMethods.All.Select(m => m.Name).ToList(),
            types.Select(t => ((MergeOptions)Activator.CreateInstance(t)!).MethodName).ToList());
    }

    /// <summary>Every parameter the options set is declared by the method, at its declared default.</summary>
    private static void AssertDefaults(MergeOptions options, string method)
    {
        var declared = MergeMethods.Find(method).Method.Parameters;
        foreach (var (name, value) in options.RecipeParameters())
        {
            var d = declared.FirstOrDefault(p => p.Name == name);
            Assert.IsNotNull(d, $"{options.GetType().Name} sets '{name}', which {method} does not declare");
            string expected = d.Kind switch
            {
                ParameterKind.Number => d.Default.ToString("R", CultureInfo.InvariantCulture),
                ParameterKind.Flag => d.Default != 0 ? "true" : "false",
                _ => d.DefaultChoice,
            };
            string actual = value switch
            {
                ParameterValue.Scalar s => s.Value.ToString("R", CultureInfo.InvariantCulture),
                ParameterValue.Text t => t.Value,
                _ => value.ToString()!,
            };
            Assert.AreEqual(expected, actual, $"{options.GetType().Name}: default of '{name}'");
        }
    }

    /// <summary>Catalog estimator with non-default settings, and the recipe lines (parameters, per-model parameters) that say the same.</summary>
    private static IEnumerable<(string Label, Func<MLContext, MergeFamily, MergeEstimator> Estimator, string Method, string Parameters, string Digits)> Cases()
    {
        var half = new Dictionary<string, double> { ["digits"] = 0.5 };
        yield return ("tsv_m", (ml, f) => ml.Merging().TsvMerge(f, new TsvMergeOptions { Scale = 0.7, Matrices = MatrixSelection.Blocks, PowerIterations = 4, Weights = half, Seed = 3 }),
            "tsv_m", "{ scale: 0.7, matrices: blocks, power_iterations: 4 }", "{ weight: 0.5 }");
        yield return ("iso_c", (ml, f) => ml.Merging().IsoC(f, new IsoCOptions { Scale = 1.3, Seed = 3 }), "iso_c", "{ scale: 1.3 }", "{}");
        yield return ("iso_cts", (ml, f) => ml.Merging().IsoCts(f, new IsoCtsOptions { Scale = 0.9, CommonSpaceFraction = 0.6, Matrices = MatrixSelection.Blocks, PowerIterations = 6, Seed = 3 }),
            "iso_cts", "{ scale: 0.9, common_space_fraction: 0.6, matrices: blocks, power_iterations: 6 }", "{}");
        yield return ("wudi", (ml, f) => ml.Merging().Wudi(f, new WudiOptions { Iterations = 20, LearningRate = 1e-4, Seed = 3 }), "wudi", "{ iterations: 20, learning_rate: 0.0001 }", "{}");
        yield return ("nuslerp", (ml, f) => ml.Merging().NuSlerp(f, new NuSlerpOptions { Flatten = false, RowWise = true, Weights = half, Seed = 3 }),
            "nuslerp", "{ nuslerp_flatten: false, nuslerp_row_wise: true }", "{ weight: 0.5 }");
        yield return ("multislerp", (ml, f) => ml.Merging().MultiSlerp(f, new MultiSlerpOptions { Epsilon = 1e-6, Over = SlerpOver.Weights, Weights = half, Seed = 3 }),
            "multislerp", "{ eps: 0.000001, over: weights }", "{ weight: 0.5 }");
        yield return ("karcher", (ml, f) => ml.Merging().Karcher(f, new KarcherOptions { MaxIterations = 3, Tolerance = 1e-7, Seed = 3 }), "karcher", "{ max_iter: 3, tol: 0.0000001 }", "{}");
        yield return ("sce", (ml, f) => ml.Merging().Sce(f, new SceOptions { SelectTopK = 0.4, Seed = 3 }), "sce", "{ select_topk: 0.4 }", "{}");
        yield return ("tsv_m short", (ml, f) => ml.Merging().TsvMerge(f, scale: 1.5), "tsv_m", "{ scale: 1.5 }", "{}");
        yield return ("iso_cts short", (ml, f) => ml.Merging().IsoCts(f, scale: 1.1, commonSpaceFraction: 0.5), "iso_cts", "{ scale: 1.1, common_space_fraction: 0.5 }", "{}");
        yield return ("wudi short", (ml, f) => ml.Merging().Wudi(f, iterations: 10, learningRate: 2e-5), "wudi", "{ iterations: 10, learning_rate: 0.00002 }", "{}");
        yield return ("sce short", (ml, f) => ml.Merging().Sce(f, selectTopK: 0.7), "sce", "{ select_topk: 0.7 }", "{}");
        yield return ("lines", (ml, f) => ml.Merging().Lines(f, new LinesOptions { Merge = LinesMerge.Ties, Beta = 0.8, Alpha = 0.3, Keep = 0.4, Weights = half, Seed = 3 }),
            "lines", "{ merge: ties, beta: 0.8, alpha: 0.3, keep: 0.4 }", "{ weight: 0.5 }");
        yield return ("lines short", (ml, f) => ml.Merging().Lines(f, beta: 1.2), "lines", "{ beta: 1.2 }", "{}");
        yield return ("lines consensus", (ml, f) => ml.Merging().Lines(f, new LinesOptions { Merge = LinesMerge.Consensus, Kappa = 0.5, MinimumAgreement = 1, Seed = 3 }),
            "lines", "{ merge: consensus, kappa: 0.5, k: 1 }", "{}");
        yield return ("pcb", (ml, f) => ml.Merging().Pcb(f, new PcbOptions { Keep = 0.3, Scale = 0.8, Clip = 0.01, Seed = 3 }), "pcb", "{ keep: 0.3, scale: 0.8, clip: 0.01 }", "{}");
        yield return ("pcb short", (ml, f) => ml.Merging().Pcb(f, keep: 0.6, scale: 1.1), "pcb", "{ pcb_ratio: 0.6, scale: 1.1 }", "{}");
        yield return ("tatr", (ml, f) => ml.Merging().Tatr(f, new TatrOptions { Quantile = 0.8, Scale = 0.6, Seed = 3 }), "tatr", "{ quantile: 0.8, scale: 0.6 }", "{}");
        yield return ("tatr ties", (ml, f) => ml.Merging().Tatr(f, new TatrOptions { Merge = TatrMerge.Ties, Quantile = 0.9, Keep = 0.4, Weights = half, Seed = 3 }),
            "tatr", "{ merge: ties, quantile: 0.9, keep: 0.4 }", "{ weight: 0.5 }");
        yield return ("tatr short", (ml, f) => ml.Merging().Tatr(f, quantile: 0.5), "tatr", "{ threshold_quantile: 0.5 }", "{}");
        // mergekit's composite names through the named overload, with mergekit's parameter names
        yield return ("della_linear", (ml, f) => ml.Merging().Merge(f, "della_linear", new Dictionary<string, string> { ["density"] = "0.6", ["epsilon"] = "0.1", ["lambda"] = "0.8" }, seed: 3),
            "della_linear", "{ density: 0.6, epsilon: 0.1, lambda: 0.8 }", "{}");
        yield return ("della_linear normalize", (ml, f) => ml.Merging().Merge(f, "della_linear", new Dictionary<string, string> { ["normalize"] = "true" }, seed: 3),
            "della_linear", "{ normalize: true }", "{}");
        yield return ("breadcrumbs_ties", (ml, f) => ml.Merging().Merge(f, "breadcrumbs_ties", new Dictionary<string, string> { ["density"] = "0.8", ["gamma"] = "0.02" }, seed: 3),
            "breadcrumbs_ties", "{ density: 0.8, gamma: 0.02 }", "{}");
        yield return ("dare_ties", (ml, f) => ml.Merging().Merge(f, "dare_ties", new Dictionary<string, string> { ["density"] = "0.7", ["int8_mask"] = "true" }, seed: 3),
            "dare_ties", "{ density: 0.7, int8_mask: true }", "{}");
    }

    /// <summary>Every effective parameter, globally and per task, as one line.</summary>
    private static string Describe(MergeParameters p)
    {
        var parts = p.Effective().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}").ToList();
        if (p.Method.Parameters.Any(d => d.Name == "weight"))
            for (int t = 0; t < p.ModelCount; t++) parts.Add($"weight[{t}]={p.Number("weight", t).ToString("R", CultureInfo.InvariantCulture)}");
        return string.Join("; ", parts);
    }

    [TestMethod]
    public void CatalogMerge_WritesTheBytesOfTheRecipeMerge()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"), Tasks.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors"))));
        var input = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
        foreach (var (label, make, method, parameters, digits) in Cases())
        {
            var estimator = make(ml, family);
            var recipe = MergeRecipe.Parse($"""
                method: {method}
                base: base.safetensors
                models:
                  - {"{"} name: fashion, path: fashion.safetensors {"}"}
                  - {"{"} name: digits, path: digits.safetensors, parameters: {digits} {"}"}
                parameters: {parameters}
                seed: 3
                """, label, ZooPaths.Vision);
            var resolved = recipe.ResolveParameters();
            var fromCatalog = estimator.Parameters();
            Assert.AreEqual(Describe(resolved), Describe(fromCatalog), $"{label}: resolved parameters");
            if (estimator.Options.Seed is null)
                continue; // a short overload draws its seed from the context: the parameters above are what it merges with
            var (catalog, _) = estimator.FitModels(input);
            var engine = MergeExecutor.RunInMemory(family.Family, resolved.Method, resolved, new MergeExecutionOptions { Seed = recipe.Seed });
            Assert.AreEqual(resolved.Method.Name, catalog.Summary.Method.Name, label);
            CollectionAssert.AreEquivalent(engine.Tensors.Keys.ToList(), catalog.Tensors.Keys.ToList(), label);
            double worst = 0;
            foreach (var (name, expected) in engine.Tensors)
            {
                var actual = catalog.Tensors[name];
                Assert.AreEqual(expected.Length, actual.Length, $"{label}: {name}");
                for (int i = 0; i < expected.Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]));
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]), $"{label}: {name}[{i}] {actual[i]} ≠ {expected[i]}");
                }
            }
            Console.WriteLine($"{label}: {engine.Tensors.Count} tensors, max |Δ| = {worst}");
            Assert.AreEqual(0.0, worst, label);
        }
    }
}
