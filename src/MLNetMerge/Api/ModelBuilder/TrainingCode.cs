using System.Reflection;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using YamlDotNet.RepresentationModel;

namespace MLNetMerge;

/// <summary>
/// The training file of a saved merged model: the recipe written as code through <c>mlContext.Merging()</c>. It loads
/// the recipe's family (paths relative to the base checkpoint's folder), builds the merge with the recipe's method,
/// parameters (the sweep's choice baked in) and seed, appends the recipe's alignment stage through its Options class,
/// and fits the same input step the zip starts with. Deterministic text, no paths of this machine.
/// </summary>
internal static class TrainingCode
{
    /// <summary>The file's text.</summary>
    /// <exception cref="RecipeException">A parameter the named merge entry cannot take (per-model values, gradients, filters).</exception>
    public static string Write(GeneratedModel m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var recipe = m.Recipe;
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(recipe.Base))!;
        string Rel(string path) => Path.GetRelativePath(baseDir, Path.GetFullPath(path)).Replace('\\', '/');
        var stage = Stage(recipe);
        string inputStep = m.Family.IsText
            ? $"mlContext.Merging().TokenizeText(family, {CSharpText.Literal(m.InputColumn)})"
            : $"mlContext.Merging().ImagePixels(family, {CSharpText.Literal(m.InputColumn)})";

        var w = new CodeText();
        w.Line($"// {m.ZipFile[..^4]}.training.cs: written by MLNetMerge from recipe '{m.RecipeName}' (export.mlnet). The recipe as code: it rebuilds {m.ZipFile} through mlContext.Merging().");
        w.Line("#nullable enable");
        w.Line("using System;");
        w.Line("using System.Collections.Generic;");
        w.Line("using System.IO;");
        w.Line("using Microsoft.ML;");
        w.Line("using Microsoft.ML.Data;");
        w.Line("using MLNetMerge;");
        w.Line();
        w.Line($"namespace {m.Namespace};");
        w.Line();
        w.Open($"public static partial class {m.ClassName}");

        w.Doc("The recipe's family: the base checkpoint and each task's fine-tuned checkpoint, in <paramref name=\"modelFolder\"/> (the base checkpoint's folder).");
        w.Line("/// <param name=\"mlContext\">The context.</param>");
        w.Line("/// <param name=\"modelFolder\">The folder of the base checkpoint.</param>");
        w.Line("public static MergeFamily LoadFamily(MLContext mlContext, string modelFolder) =>");
        w.Line("    mlContext.Merging().LoadFamily(");
        w.Line($"        Path.Combine(modelFolder, {CSharpText.Literal(Rel(recipe.Base))}),");
        w.Line("        [");
        foreach (var model in recipe.Models) w.Line($"            ({CSharpText.Literal(model.Name)}, Path.Combine(modelFolder, {CSharpText.Literal(Rel(model.Path))})),");
        w.Line("        ],");
        w.Line($"        new MergeFamilyOptions {{ Heads = {CSharpText.Literal(recipe.Heads)} }});");
        w.Line();

        string serves = m.Task is null ? "every task" : $"task <c>{CSharpText.Xml(m.Task)}</c>";
        w.Doc($"The recipe's merge: {CSharpText.Xml(recipe.Method)} with its parameters and seed {recipe.Seed}, serving {serves}{(stage is null ? "" : $", then the {CSharpText.Xml(stage.Value.Method)} stage")}.");
        w.Line("/// <param name=\"mlContext\">The context.</param>");
        w.Line("/// <param name=\"family\">The family of <see cref=\"LoadFamily\"/>.</param>");
        w.Line("public static MergeEstimator BuildMerge(MLContext mlContext, MergeFamily family) =>");
        w.Line($"    mlContext.Merging().Merge(family, {CSharpText.Literal(recipe.Method)},");
        var parameters = Parameters(recipe);
        if (parameters.Count == 0) w.Line("        parameters: null,");
        else
        {
            w.Line("        new Dictionary<string, string>");
            w.Line("        {");
            foreach (var (k, v) in parameters) w.Line($"            [{CSharpText.Literal(k)}] = {CSharpText.Literal(v)},");
            w.Line("        },");
        }
        string end = stage is null ? ");" : ")";
        w.Line($"        task: {(m.Task is null ? "null" : CSharpText.Literal(m.Task))}, seed: {recipe.Seed}{end}");
        if (stage is { } s)
        {
            w.Line($"    .Append(mlContext.Merging().{s.Entry}(new {s.OptionsType}");
            w.Line("    {");
            foreach (var (property, value) in s.Properties) w.Line($"        {property} = {value},");
            w.Line("    }));");
        }
        w.Line();

        if (stage is null)
        {
            w.Doc($"Rebuilds the model of <c>{CSharpText.Xml(m.ZipFile)}</c>: the input step, then <see cref=\"BuildMerge\"/> (a merge reads only the schema of the view it is fitted on).");
            w.Line("/// <param name=\"mlContext\">The context.</param>");
            w.Line("/// <param name=\"modelFolder\">The folder of the base checkpoint.</param>");
            w.Line("/// <param name=\"zipPath\">Where to save the model; null: not saved.</param>");
            w.Open("public static ITransformer Train(MLContext mlContext, string modelFolder, string? zipPath = null)");
        }
        else
        {
            var data = m.AlignData ?? new AlignData();
            // A stage that reads labeled validation rows (trust region with labels: validation) takes the whole validation
            // split; the others the align.data split, drawn per task with the recipe's seed.
            var stages = AlignSection.Read(recipe).Stages;
            bool labeled = stages.Count > 0 && stages[0].Consumes == Merging.DataRequirement.LabeledValidation;
            string split = labeled ? "validation" : data.Split;
            int samples = labeled ? 0 : data.Samples;
            var tasks = m.Task is null ? m.Family.TaskNames : [m.Task];
            string call = $"mlContext.Merging().LoadZooData(zoo, {CSharpText.Literal(split)}, [{string.Join(", ", tasks.Select(CSharpText.Literal))}]"
                + (samples > 0 ? $", samplesPerTask: {samples}, seed: {recipe.Seed}" : "") + ")";
            w.Doc($"Rebuilds the model of <c>{CSharpText.Xml(m.ZipFile)}</c>: the input step, then <see cref=\"BuildMerge\"/> fitted on <paramref name=\"alignmentRows\"/>.",
                $"The recipe's run fitted its stage on the {CSharpText.Xml(split)} split of its zoo ({(samples == 0 ? "every row" : samples + " rows per task, a seeded draw")}{(labeled ? ", labeled" : "")} of {(tasks.Count == 1 ? "the task" : "the family's tasks")}): <c>{CSharpText.Xml(call)}</c> gives exactly those rows.");
            w.Line("/// <param name=\"mlContext\">The context.</param>");
            w.Line("/// <param name=\"modelFolder\">The folder of the base checkpoint.</param>");
            w.Line("/// <param name=\"alignmentRows\">Unlabeled model inputs the stage is fitted on.</param>");
            w.Line("/// <param name=\"zipPath\">Where to save the model; null: not saved.</param>");
            w.Open("public static ITransformer Train(MLContext mlContext, string modelFolder, IDataView alignmentRows, string? zipPath = null)");
        }
        w.Line("using var family = LoadFamily(mlContext, modelFolder);");
        w.Line("IDataView empty = mlContext.Data.LoadFromEnumerable(Array.Empty<ModelInput>());");
        w.Line($"var inputStep = {inputStep}.Fit(empty);");
        w.Line(stage is null
            ? "var merge = BuildMerge(mlContext, family).Fit(inputStep.Transform(empty));"
            : "var merge = BuildMerge(mlContext, family).Fit(alignmentRows);");
        w.Line("var model = inputStep.Append(merge);");
        w.Line("if (zipPath is not null) mlContext.Model.Save(model, empty.Schema, zipPath);");
        w.Line("return model;");
        w.Close();
        w.Close();
        return w.ToString();
    }

    /// <summary>The recipe's global parameters as the named entry takes them (text as written, numbers round-trip).</summary>
    internal static List<(string Key, string Value)> Parameters(MergeRecipe recipe)
    {
        if (recipe.Models.Any(x => x.Parameters.Count > 0))
            throw new RecipeException(recipe.Source, "export.mlnet: per-model parameters have no place in mlContext.Merging().Merge(family, method, parameters); set them globally to export ML.NET zips.");
        return [.. recipe.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value switch
        {
            ParameterValue.Scalar s => CSharpText.Number(s.Value),
            ParameterValue.Text t => t.Value,
            _ => throw new RecipeException(recipe.Source, $"export.mlnet: parameter '{p.Key}' is a gradient or filtered value, which mlContext.Merging().Merge(family, method, parameters) cannot take."),
        }))];
    }

    /// <summary>The recipe's one alignment stage as catalog entry, Options class and property assignments; null without one.</summary>
    internal static (string Method, string Entry, string OptionsType, List<(string Property, string Value)> Properties)? Stage(MergeRecipe recipe)
    {
        if (!recipe.Sections.TryGetValue("align", out var node) || node is not YamlMappingNode align) return null;
        var stageNode = align.Children.TryGetValue(new YamlScalarNode("stages"), out var stages)
            ? (stages as YamlSequenceNode)?.Children.FirstOrDefault() as YamlMappingNode
            : align;
        if (stageNode is null || !stageNode.Children.TryGetValue(new YamlScalarNode("method"), out var methodNode)) return null;
        string method = ((YamlScalarNode)methodNode).Value ?? "";
        var options = typeof(AlignmentOptions).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(AlignmentOptions)) && !t.IsAbstract && t.IsPublic)
            .Select(t => (AlignmentOptions)Activator.CreateInstance(t)!)
            .FirstOrDefault(o => o.MethodName == method)
            ?? throw new RecipeException(recipe.Source, $"export.mlnet: alignment stage '{method}' has no Options class in mlContext.Merging().");
        var type = options.GetType();
        string entry = type.Name[..^"Options".Length];
        var properties = new List<(string, string)>();
        if (stageNode.Children.TryGetValue(new YamlScalarNode("parameters"), out var p) && p is YamlMappingNode given)
        {
            foreach (var (k, v) in given.Children)
            {
                string name = ((YamlScalarNode)k).Value ?? "";
                string value = (v as YamlScalarNode)?.Value ?? throw new RecipeException(recipe.Source, $"export.mlnet: stage parameter '{name}' is not a single value.");
                var property = type.GetProperties().FirstOrDefault(x => x.GetCustomAttribute<RecipeParameterAttribute>()?.Name == name)
                    ?? throw new RecipeException(recipe.Source, $"export.mlnet: {type.Name} has no property for stage parameter '{name}'.");
                var declared = Alignment.AlignmentMethods.All.FirstOrDefault(a => a.Name == method)?.Parameters.FirstOrDefault(x => x.Name == name);
                properties.Add((property.Name, Value(property.PropertyType, value, recipe, name, declared)));
            }
        }
        return (method, entry, type.Name, properties);
    }

    /// <summary>A C# literal of <paramref name="text"/> for a property of <paramref name="type"/> (<paramref name="declared"/>: the
    /// stage's declaration of the parameter, whose default word means null for a nullable property).</summary>
    private static string Value(Type type, string text, MergeRecipe recipe, string name, Merging.MethodParameter? declared)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        // A nullable property's null is the declared choice word (Tinting's layer: head ⇔ Block null).
        if (Nullable.GetUnderlyingType(type) is not null && declared is { Kind: Merging.ParameterKind.Choice } && text == declared.DefaultChoice) return "null";
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        if (t == typeof(string)) return CSharpText.Literal(text);
        if (t == typeof(bool) && bool.TryParse(text, out var b)) return b ? "true" : "false";
        if (t == typeof(int) && int.TryParse(text, ci, out var i)) return i.ToString(ci);
        if (t == typeof(double) && double.TryParse(text, System.Globalization.NumberStyles.Float, ci, out var d)) return CSharpText.Number(d);
        if (t.IsEnum)
        {
            string key = text.Replace("_", "", StringComparison.Ordinal);
            var member = Enum.GetNames(t).FirstOrDefault(n => string.Equals(n, key, StringComparison.OrdinalIgnoreCase));
            if (member is not null) return t.Name + "." + member;
        }
        throw new RecipeException(recipe.Source, $"export.mlnet: stage parameter '{name}' = '{text}' is not a value of {type.Name}.");
    }
}
