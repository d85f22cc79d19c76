using System.Text.Json;
using System.Text.Json.Nodes;
using MLNetMerge.Recipes;
using MLNetMerge.Tests.Onnx;

namespace MLNetMerge.Tests.Reports;

/// <summary>A report.json read back has the documented field types: a hand-edited one that breaks them is refused
/// with one line naming the field's path, and every report the project commits passes.</summary>
[TestClass]
public sealed class ReportSchemaTests
{
    private static string TextReport => Path.Combine(OnnxTools.RepoRoot, "data", "zoo", "text", "results", "report.json");

    private static string Read(JsonNode report)
    {
        using var doc = JsonDocument.Parse(report.ToJsonString());
        var entries = RunReport.Entries(doc, "r.json");
        return $"{entries.Count} entries";
    }

    private static string Refusal(Action<JsonNode> edit)
    {
        var report = JsonNode.Parse(File.ReadAllText(TextReport))!;
        edit(report);
        var e = Assert.ThrowsExactly<RecipeException>(() => Read(report));
        Assert.IsFalse(e.Message.Contains('\n', StringComparison.Ordinal), e.Message);
        StringAssert.StartsWith(e.Message, "r.json");
        return e.Message;
    }

    private static JsonNode Current(JsonNode report) => report["recipes"]![0]!["text"]!["breadcrumbs"]!["tasks"]!["noun_supersense"]!["current"]!;

    [TestMethod]
    public void CommittedReportsPass()
    {
        var files = Directory.GetFiles(Path.Combine(OnnxTools.RepoRoot, "data", "zoo"), "*report.json", SearchOption.AllDirectories);
        Assert.IsTrue(files.Length >= 8, $"{files.Length} reports");
        foreach (string file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            Assert.IsTrue(RunReport.Entries(doc, file).Count > 0, file);
        }
    }

    [TestMethod]
    public void WrongTypesAreNamedByPath()
    {
        StringAssert.Contains(Refusal(r => r["recipes"]![0]!["family"] = 5), "recipes[0].family: expected a string (the family's name), found the number 5.");
        StringAssert.Contains(Refusal(r => r["recipes"]![0]!["tasks"] = "abc"), "recipes[0].tasks: expected a list of task names, found a string.");
        StringAssert.Contains(Refusal(r => Current(r)["Accuracy"] = "high"), "recipes[0].text.breadcrumbs.tasks.noun_supersense.current.Accuracy: expected a number, found a string.");
        StringAssert.Contains(Refusal(r => Current(r)["Runs"] = 1.5), "current.Runs: expected an integer, found the number 1.5.");
        StringAssert.Contains(Refusal(r => Current(r)["PerClassLogLoss"] = null), "current.PerClassLogLoss: expected a list, found null.");
        StringAssert.Contains(Refusal(r => r["recipes"]![0]!["protocols"] = new JsonArray(1, 2)), "recipes[0].protocols[0]: expected a string, found the number 1.");
        StringAssert.Contains(Refusal(r => r["recipes"]![0]!["text"]!["breadcrumbs"] = new JsonArray()), "recipes[0].text.breadcrumbs: expected an object (one model's row), found a list.");
        StringAssert.Contains(Refusal(r => r["recipes"]![0] = 3), "recipes[0]: expected an object (one recipe's evaluation), found the number 3.");
        StringAssert.Contains(Refusal(r => r["recipes"]![0]!.AsObject().Remove("text")), "recipes[0].text: missing; expected an object of rows");
        StringAssert.Contains(Refusal(r => r["recipes"]![0]!["text"]!["breadcrumbs"]!["average"]!["current"] = true), "breadcrumbs.average.current: expected a number, found true.");
    }

    [TestMethod]
    public void ImpossibleValuesAndAMissingVersionAreNamed()
    {
        // Accuracy -5 was drawn as -500.0 % (found by a structure-aware fuzz trial).
        StringAssert.Contains(Refusal(r => Current(r)["Accuracy"] = -5), "current.Accuracy: expected a number from 0 to 1, found -5.");
        StringAssert.Contains(Refusal(r => Current(r)["MatthewsCorrelation"] = 1.5), "current.MatthewsCorrelation: expected a number from -1 to 1, found 1.5.");
        StringAssert.Contains(Refusal(r => Current(r)["LogLoss"] = -0.1), "current.LogLoss: expected a number from 0 up, found -0.1.");
        StringAssert.Contains(Refusal(r => r["recipes"]![0]!["text"]!["breadcrumbs"]!["average"]!["current"] = 2), "breadcrumbs.average.current: expected a number from 0 to 1, found 2.");
        StringAssert.Contains(Refusal(r => r.AsObject().Remove("version")), "has no 'version' (a whole number); this library reads version 1.");
        StringAssert.Contains(Refusal(r => r["version"] = "1"), "has no 'version' (a whole number)");
    }

    [TestMethod]
    public void ConfusionMatricesAreSquareAndMatchTheirLogLosses()
    {
        StringAssert.Contains(Refusal(r => Current(r)["ConfusionMatrix"] = new JsonArray(new JsonArray(1, 2), new JsonArray(3))),
            "current.ConfusionMatrix[1]: expected a row of 2 counts (the matrix is 2 × 2), found 1.");
        StringAssert.Contains(Refusal(r => Current(r)["ConfusionMatrix"] = new JsonArray(new JsonArray(1, 2), new JsonArray(3, 0.5))),
            "current.ConfusionMatrix[1][1]: expected an integer, found the number 0.5.");
        // The committed matrix is 8 × 8; a log-loss list of another length does not describe it.
        StringAssert.Contains(Refusal(r => Current(r)["PerClassLogLoss"] = new JsonArray(0.1, 0.2)), "current.PerClassLogLoss: expected 8 values (one per class of the confusion matrix), found 2.");
    }

    [TestMethod]
    public void AbsentOptionalFieldsAreTolerated()
    {
        var report = JsonNode.Parse(File.ReadAllText(TextReport))!;
        var row = report["recipes"]![0]!["text"]!["breadcrumbs"]!.AsObject();
        row.Remove("average");
        row.Remove("sweep");
        Current(report).AsObject().Remove("ConfusionMatrix");
        Assert.AreEqual($"{report["recipes"]!.AsArray().Count} entries", Read(report));
    }
}
