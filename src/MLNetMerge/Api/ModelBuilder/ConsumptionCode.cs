using System.Text;

namespace MLNetMerge;

/// <summary>
/// The consumption file of a saved merged model, as Model Builder writes one: a static class with <c>ModelInput</c>
/// (the zip's input column: an image path or the text), <c>ModelOutput</c> (typed from the saved schema: embeddings and
/// scores as <c>float[]</c> with their <c>[VectorType]</c> sizes, the <c>PredictedLabel</c> key and its class name),
/// the class names in score order, and static <c>Predict</c> and <c>PredictAllLabels</c> over a lazily created
/// <c>PredictionEngine</c>. The text depends only on the model (no paths, dates or machine), so the same recipe and
/// seed give the same file.
/// </summary>
internal static class ConsumptionCode
{
    /// <summary>The file's text.</summary>
    public static string Write(GeneratedModel m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var c = m.Columns;
        bool single = m.Task is not null;
        string serves = single ? $"task <c>{CSharpText.Xml(m.Task!)}</c>" : $"every task ({CSharpText.Xml(string.Join(", ", c.Heads.Select(h => h.Task)))})";
        var w = new CodeText();
        w.Line($"// {m.ZipFile[..^4]}.consumption.cs: written by MLNetMerge from recipe '{m.RecipeName}' (export.mlnet). Loads and calls the ML.NET model {m.ZipFile}.");
        w.Line("#nullable enable");
        w.Line("using System;");
        w.Line("using System.Collections.Generic;");
        w.Line("using System.IO;");
        w.Line("using System.Linq;");
        w.Line("using Microsoft.ML;");
        w.Line("using Microsoft.ML.Data;");
        w.Line("using MLNetMerge;");
        w.Line();
        w.Line($"namespace {m.Namespace};");
        w.Line();
        w.Doc($"The {CSharpText.Xml(m.Recipe.Method)} merge of {m.Family.TaskNames.Count} fine-tuned models serving {serves}, saved as the ML.NET model <c>{CSharpText.Xml(m.ZipFile)}</c>:",
            m.Family.IsText
                ? $"text in (tokenized by the model into {m.Family.SequenceLength} WordPiece ids), class probabilities and the predicted class out."
                : $"image files in (loaded, scaled and centre-cropped to {m.Family.ImageSize}×{m.Family.ImageSize}, {(m.Family.ImageChannels == 1 ? "the red channel: grayscale images only" : "R, G, B")}; transparent pixels count as black), class probabilities and the predicted class out.");
        w.Open($"public static partial class {m.ClassName}");

        w.Doc($"One input row of <c>{CSharpText.Xml(m.ZipFile)}</c>.");
        w.Open("public sealed class ModelInput");
        w.Doc(m.Family.IsText ? "The text to classify." : "Path of the image file (absolute, or relative to the working directory).");
        w.Line($"[ColumnName({CSharpText.Literal(m.InputColumn)})]");
        w.Line($"public string {CSharpText.Identifier(m.InputColumn)} {{ get; set; }} = \"\";");
        w.Close();
        w.Line();

        w.Doc($"What <c>{CSharpText.Xml(m.ZipFile)}</c> computes for one row.");
        w.Open("public sealed class ModelOutput");
        foreach (var (column, size) in c.Embeddings)
        {
            w.Doc($"The merged encoder's embedding{(column == MergeColumns.Embedding ? "" : " for task <c>" + CSharpText.Xml(column[(MergeColumns.Embedding.Length + 1)..]) + "</c>")} ({size} floats): the features the heads read.");
            w.Line($"[ColumnName({CSharpText.Literal(column)}), VectorType({size})]");
            w.Line($"public float[] {CSharpText.Identifier(column)} {{ get; set; }} = [];");
            w.Line();
        }
        foreach (var h in c.Heads)
        {
            string suffix = single ? "" : CSharpText.Identifier(h.Task);
            string names = "ClassNames" + suffix;
            w.Doc($"Class probabilities{For(h, single)}, in the order of <see cref=\"{names}\"/>.");
            w.Line($"[ColumnName({CSharpText.Literal(h.Score)}), VectorType({h.ClassNames.Count})]");
            w.Line($"public float[] Score{suffix} {{ get; set; }} = [];");
            w.Line();
            w.Doc($"The predicted class{For(h, single)} as ML.NET's key: 1 + its index in <see cref=\"{names}\"/>.");
            w.Line($"[ColumnName({CSharpText.Literal(h.PredictedLabel)})]");
            w.Line($"public uint PredictedLabel{suffix}Key {{ get; set; }}");
            w.Line();
            w.Doc($"The predicted class's name{For(h, single)}.");
            w.Line("[NoColumn]");
            w.Line($"public string PredictedLabel{suffix} => {names}[(int)PredictedLabel{suffix}Key - 1];");
            w.Line();
        }
        w.TrimBlank();
        w.Close();
        w.Line();

        foreach (var h in c.Heads)
        {
            string suffix = single ? "" : CSharpText.Identifier(h.Task);
            w.Doc($"The classes of task <c>{CSharpText.Xml(h.Task)}</c> in score order (the key values of the saved <c>{CSharpText.Xml(h.PredictedLabel)}</c>).");
            w.Line($"public static readonly IReadOnlyList<string> ClassNames{suffix} =");
            w.Line("[");
            foreach (var name in h.ClassNames) w.Line("    " + CSharpText.Literal(name) + ",");
            w.Line("];");
            w.Line();
        }

        w.Doc($"Where the model is loaded from; default: <c>{CSharpText.Xml(m.ZipFile)}</c> beside the application. Set it before the first prediction.");
        w.Line($"public static string MLNetModelPath {{ get; set; }} = Path.Combine(AppContext.BaseDirectory, {CSharpText.Literal(m.ZipFile)});");
        w.Line();
        w.Line("private static readonly object Gate = new();");
        w.Line("private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);");
        w.Line();
        w.Doc("Scores one row (a PredictionEngine serves one caller at a time: calls are serialised).");
        w.Open("public static ModelOutput Predict(ModelInput input)");
        w.Line("ArgumentNullException.ThrowIfNull(input);");
        w.Line("lock (Gate) return PredictEngine.Value.Predict(input);");
        w.Close();
        w.Line();
        if (single)
        {
            w.Doc("Every class with its probability, most probable first (equal probabilities in class order).");
            w.Open("public static IReadOnlyList<(string Label, float Score)> PredictAllLabels(ModelInput input)");
            w.Line("float[] scores = Predict(input).Score;");
            w.Line("return [.. ClassNames.Select((label, i) => (label, scores[i])).OrderByDescending(p => p.Item2)];");
            w.Close();
        }
        else
        {
            w.Doc("Every class of <paramref name=\"task\"/> with its probability, most probable first (equal probabilities in class order).");
            w.Line("/// <exception cref=\"ArgumentException\">The model serves no such task.</exception>");
            w.Open("public static IReadOnlyList<(string Label, float Score)> PredictAllLabels(ModelInput input, string task)");
            w.Line("var output = Predict(input);");
            w.Line("var (names, scores) = task switch");
            w.Line("{");
            foreach (var h in c.Heads)
            {
                string suffix = CSharpText.Identifier(h.Task);
                w.Line($"    {CSharpText.Literal(h.Task)} => (ClassNames{suffix}, output.Score{suffix}),");
            }
            w.Line($"    _ => throw new ArgumentException($\"the model serves no task '{{task}}' (tasks: {string.Join(", ", c.Heads.Select(h => h.Task))}).\", nameof(task)),");
            w.Line("};");
            w.Line("return [.. names.Select((label, i) => (label, scores[i])).OrderByDescending(p => p.Item2)];");
            w.Close();
        }
        w.Line();
        w.Open("private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()");
        w.Line("var mlContext = new MLContext();");
        w.Line(m.Family.IsText
            ? "// The tokenizer and PredictedLabel's argmax are CustomMappings: the zip names them, MLNetMerge holds their code."
            : "// PredictedLabel's argmax is a CustomMapping: the zip names it, MLNetMerge holds its code.");
        w.Line("mlContext.Merging().RegisterAssembly();");
        w.Line("ITransformer model = mlContext.Model.Load(MLNetModelPath, out _);");
        w.Line("// A loaded ONNX transformer copies its graph into the temp folder and deletes the copy when disposed; the engine");
        w.Line("// lives as long as the process, so the model is disposed when the process exits.");
        w.Line("if (model is IDisposable owned) AppDomain.CurrentDomain.ProcessExit += (_, _) => owned.Dispose();");
        w.Line("return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);");
        w.Close();
        w.Close();
        return w.ToString();
    }

    private static string For(ModelZipHead h, bool single) => single ? "" : $" of task <c>{CSharpText.Xml(h.Task)}</c>";
}

/// <summary>Indented C# lines (four spaces a level, <c>\n</c> endings) for the generators.</summary>
internal sealed class CodeText
{
    private readonly StringBuilder _sb = new();
    private int _depth;

    /// <summary>One line at the current depth (an empty line has no indent).</summary>
    public void Line(string text = "") => _sb.Append(text.Length == 0 ? "" : new string(' ', 4 * _depth) + text).Append('\n');

    /// <summary>A <c>&lt;summary&gt;</c> doc comment of the given lines (already XML-escaped).</summary>
    public void Doc(params string[] lines)
    {
        if (lines.Length == 1) { Line($"/// <summary>{lines[0]}</summary>"); return; }
        Line("/// <summary>");
        foreach (var l in lines) Line("/// " + l);
        Line("/// </summary>");
    }

    /// <summary><paramref name="header"/>, then <c>{</c> and one level deeper.</summary>
    public void Open(string header)
    {
        Line(header);
        Line("{");
        _depth++;
    }

    /// <summary>One level up, then <c>}</c>.</summary>
    public void Close()
    {
        _depth--;
        Line("}");
    }

    /// <summary>Drops a trailing empty line.</summary>
    public void TrimBlank()
    {
        if (_sb.Length >= 2 && _sb[^1] == '\n' && _sb[^2] == '\n') _sb.Length--;
    }

    /// <inheritdoc/>
    public override string ToString() => _sb.ToString();
}
