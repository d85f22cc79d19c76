using System.Reflection;
using NetArchTest.Rules;

namespace MLNetMerge.Tests.Architecture;

/// <summary>
/// The house keeps its shape: the library's namespaces form layers that only point down (docs/ARCHITECTURE.md), the
/// engine does not touch ML.NET, and nothing in the library reaches the CLI's tools. A new back-edge fails here with the
/// types that make it.
/// </summary>
[TestClass]
public sealed class LayerTests
{
    /// <summary>The layers of the MLNetMerge assembly, bottom first; a namespace belongs to the layer whose name is its
    /// longest prefix (<c>MLNetMerge.Checkpoints.Onnx</c> is in Checkpoints). A layer may use itself and the layers below.</summary>
    internal static readonly string[] Layers =
    [
        "MLNetMerge.Errors",
        "MLNetMerge.Tensors",
        "MLNetMerge.Data",
        "MLNetMerge.Text",
        "MLNetMerge.Checkpoints",
        "MLNetMerge.Nn",
        "MLNetMerge.Encoders",
        "MLNetMerge.Merging",
        "MLNetMerge.Alignment",
        "MLNetMerge.Evaluation",
        "MLNetMerge.Export",
        "MLNetMerge.MLNet",
        "MLNetMerge.Recipes",
        "MLNetMerge",
    ];

    /// <summary>The engine: the layers that must not depend on ML.NET (everything below the ML.NET adapters).</summary>
    private static readonly string[] Engine = Layers[..Array.IndexOf(Layers, "MLNetMerge.MLNet")];

    public TestContext TestContext { get; set; } = null!;

    internal static string? LayerOf(string ns) =>
        Layers.Where(l => ns == l || ns.StartsWith(l + ".", StringComparison.Ordinal)).MaxBy(l => l.Length);

    private static Assembly Library => typeof(MLNetMerge.Recipes.MergeRecipe).Assembly;

    private static string LibraryPath => Library.Location;

    [TestMethod]
    public void EveryNamespaceIsInALayer()
    {
        var namespaces = Library.GetTypes().Select(t => t.Namespace ?? "")
            .Where(n => n.Length > 0 && !n.StartsWith("System", StringComparison.Ordinal) && !n.StartsWith("Microsoft", StringComparison.Ordinal))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var orphans = namespaces.Where(n => LayerOf(n) is null).ToList();
        Assert.IsEmpty(orphans, "namespaces outside every layer: " + string.Join(", ", orphans));
    }

    [TestMethod]
    public void LayersOnlyPointDown()
    {
        var graph = NamespaceGraph.Read(LibraryPath, LayerOf);
        var back = new List<string>();
        foreach (var ((from, to), pairs) in graph.Edges.OrderBy(e => Array.IndexOf(Layers, e.Key.From)).ThenBy(e => Array.IndexOf(Layers, e.Key.To)))
        {
            bool down = Array.IndexOf(Layers, to) < Array.IndexOf(Layers, from);
            TestContext.WriteLine($"{(down ? "  " : "!!")} {from} -> {to} ({pairs.Count})");
            if (!down) back.Add($"{from} -> {to}: {string.Join(", ", pairs.Take(6))}");
        }
        Assert.IsEmpty(back, "layers that point up:\n" + string.Join("\n", back));
    }

    [TestMethod]
    public void TheEngineDoesNotUseMLNet()
    {
        var result = Types.InAssembly(Library)
            .That().ResideInNamespaceMatching("^(" + string.Join("|", Engine.Select(l => l.Replace(".", "\\.", StringComparison.Ordinal) + "(\\..*)?")) + ")$")
            .ShouldNot().HaveDependencyOnAny("Microsoft.ML", "Microsoft.Data.Analysis")
            .GetResult();
        Assert.IsTrue(result.IsSuccessful, "engine types that use ML.NET: " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [TestMethod]
    public void TheLibraryDoesNotReachTheTools()
    {
        var result = Types.InAssembly(Library).ShouldNot().HaveDependencyOnAny("MLNetMerge.Cli", "Spectre.Console", "System.CommandLine").GetResult();
        Assert.IsTrue(result.IsSuccessful, "library types that use the CLI: " + string.Join(", ", result.FailingTypeNames ?? []));
        var cli = Assembly.Load("MLNetMerge.Cli");
        Assert.IsNotNull(cli.GetType("MLNetMerge.Cli.Zoo.VisionZooBuilder"), "zoo builders live in the CLI");
        Assert.IsNull(Library.GetTypes().FirstOrDefault(t => t.Namespace is "MLNetMerge.Zoo" or "MLNetMerge.Reports"));
    }

    /// <summary>The engine is internal: users see the API (namespace <c>MLNetMerge</c>, <c>mlContext.Merging()</c>), the typed
    /// errors they catch, and the progress record the Options classes report with. A new public engine type fails here
    /// (and in PublicAPI.Unshipped.txt).</summary>
    [TestMethod]
    public void OnlyTheApiIsPublic()
    {
        string[] allowed = ["MLNetMerge", "MLNetMerge.Errors"];
        var stray = Library.GetExportedTypes()
            .Where(t => !allowed.Contains(t.Namespace) && t != typeof(MLNetMerge.Merging.MergeProgress))
            .Select(t => t.FullName).Order().ToList();
        Assert.IsEmpty(stray, "public engine types: " + string.Join(", ", stray));
        Assert.IsGreaterThanOrEqualTo(40, Library.GetExportedTypes().Count(t => t.Namespace == "MLNetMerge"), "the API itself is public");
    }
}
