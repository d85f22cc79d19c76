using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;
using MLNetMerge.Export;
using MLNetMerge.MLNet;
using MLNetMerge.Recipes;

namespace MLNetMerge;

/// <summary>
/// The ML.NET end of a recipe (<c>export.mlnet</c>), as Model Builder ends: per model (one per task, or one serving every
/// task) an ML.NET zip saved with <c>mlContext.Model.Save</c> — the family's input step (image pixels from a path column,
/// or WordPiece tokenization of a text column), the merged encoder and heads (and the recipe's alignment stage) as
/// <see cref="MergedChain"/> builds them, <c>Score</c> and <c>PredictedLabel</c> — with its consumption C#
/// (<see cref="ConsumptionCode"/>) and training C# (<see cref="TrainingCode"/>). Every file is written through a
/// temporary file and renamed, into the run's temporary output folder; the zips are byte-identical across runs of the
/// same recipe and seed (<see cref="DeterministicZip"/>).
/// </summary>
internal static class RecipeModelZips
{
    /// <summary>Default input column of a vision family's zip: image file paths.</summary>
    public const string ImagePathColumn = "ImagePath";

    /// <summary>Default input column of a text family's zip.</summary>
    public const string TextColumn = "Text";

    /// <summary>The writer the recipe runner calls (<see cref="Check"/> before the run, <see cref="Write"/> after it).</summary>
    public static IModelZipWriter Writer { get; } = new ZipWriter();

    private sealed class ZipWriter : IModelZipWriter
    {
        public void Check(MergeRecipe recipe, ExportSection export) => RecipeModelZips.Check(recipe, export);

        public IReadOnlyList<string> Write(ModelZipRequest request) => RecipeModelZips.Write(request);
    }

    /// <summary>
    /// Refuses, before the run, what the zips' generated code could not express: parameters and a stage the catalog
    /// entries cannot take (<see cref="TrainingCode"/>), a stage that merges again from every task's data in per-task zips
    /// (a transformer serving one task cannot fit it, so the training code could not rebuild the zip), and task or
    /// column names whose C# identifiers would collide (the code would not compile).
    /// </summary>
    /// <exception cref="RecipeException">The setting, named.</exception>
    public static void Check(MergeRecipe recipe, ExportSection export)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(export);
        TrainingCode.Parameters(recipe);
        var stage = TrainingCode.Stage(recipe);
        if (export.MLNet == MLNetZipLayout.PerTask && stage is { } s && Alignment.AlignmentMethods.All.FirstOrDefault(a => a.Name == s.Method) is { MergesEveryTask: true })
            throw new RecipeException(recipe.Source, $"export.mlnet: per_task: stage '{s.Method}' merges the task vectors again from every task's data, so a zip serving one task could not be rebuilt by its training code; export mlnet: multi_head.");
        var tasks = recipe.Models.Select(m => m.Name).ToList();
        if (export.MLNet == MLNetZipLayout.PerTask)
            Distinct(recipe, tasks.Select(t => (Name: CSharpText.Identifier(t) + "Model", From: $"task '{t}'")), "class");
        else
            Distinct(recipe, tasks.SelectMany(t => HeadMembers.Select(m => m + CSharpText.Identifier(t))
                .Append("PredictedLabel" + CSharpText.Identifier(t) + "Key").Select(n => (Name: n, From: $"task '{t}'"))), "member");
        // A text family's zips hold the savable WordPiece steps, compiled for a few lengths: said before the merge runs.
        if (File.Exists(recipe.Base) || Directory.Exists(recipe.Base))
        {
            using var reader = Checkpoints.CheckpointReader.Open(recipe.Base);
            if (Encoders.ModelArchitecture.Load(reader).Text is { } text && !MLNet.WordPieceSelectionLengths.Supported.Contains(text.SequenceLength))
                throw new RecipeException(recipe.Source, $"export.mlnet: {text.LengthSource} sets the sequence length {text.SequenceLength}; the zips' WordPiece steps hold {string.Join(", ", MLNet.WordPieceSelectionLengths.Supported)} tokens: set one of those there.");
        }
        if (export.MLNetInput is { } input && CSharpText.Identifier(input) is "ModelInput" or "ModelOutput")
            throw new RecipeException(recipe.Source, $"export.mlnet_input: '{input}' becomes the C# property {CSharpText.Identifier(input)}, the name of its own class; choose another column name.");
    }

    /// <summary>The multi-head consumption code's members per task, each followed by the task's identifier.</summary>
    private static readonly string[] HeadMembers = ["Score", "PredictedLabel", "ClassNames"];

    private static void Distinct(MergeRecipe recipe, IEnumerable<(string Name, string From)> names, string what)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, from) in names)
        {
            if (seen.TryGetValue(name, out var first) && first != from)
                throw new RecipeException(recipe.Source, $"export.mlnet: {first} and {from} both become the C# {what} {name} in the generated code; rename one of the models.");
            seen.TryAdd(name, from);
        }
    }

    /// <summary>Writes the zips and their C# into <see cref="ModelZipRequest.Folder"/>; returns the files, relative to it, in order.</summary>
    /// <exception cref="RecipeException">The family has no ML.NET input step (an MLP family reads feature vectors).</exception>
    public static IReadOnlyList<string> Write(ModelZipRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var recipe = request.Recipe;
        // Not disposed: the runner owns the engine family.
        var family = MergeFamily.Wrap(request.Family, new MergeFamilyOptions { Heads = recipe.Heads });
        if (!family.IsText && family.ImageSize == 0)
            throw new RecipeException(recipe.Source, "export.mlnet: the family's encoder reads feature vectors, for which there is no ML.NET input step; ML.NET zips are written for image and text encoders.");
        string input = request.Export.MLNetInput ?? (family.IsText ? TextColumn : ImagePathColumn);
        string ns = CSharpText.Identifier(RecipeRunner.RecipeName(recipe));
        Directory.CreateDirectory(request.Folder);

        var models = request.Export.MLNet == MLNetZipLayout.PerTask
            ? family.TaskNames.Select(t => (File: t, Tasks: (IReadOnlyList<string>)[t], Task: (string?)t)).ToList()
            : [("model", family.TaskNames, null)];
        var files = new List<string>();
        foreach (var (file, tasks, task) in models)
        {
            var ml = new MLContext(seed: 0);
            string zip = file + ".zip";
            var columns = SaveZip(ml, family, request, tasks, task, input, Path.Combine(request.Folder, zip));
            string className = (task is null ? ns : CSharpText.Identifier(task)) + "Model";
            var model = new GeneratedModel(ns, className, zip, RecipeRunner.RecipeName(recipe), recipe, family, input, task, columns, request.AlignData);
            AtomicFile.Write(Path.Combine(request.Folder, file + ".consumption.cs"), s => Utf8(s, ConsumptionCode.Write(model)));
            AtomicFile.Write(Path.Combine(request.Folder, file + ".training.cs"), s => Utf8(s, TrainingCode.Write(model)));
            files.AddRange([zip, file + ".consumption.cs", file + ".training.cs"]);
        }
        return files;
    }

    /// <summary>The input step, fitted (no data is read) on an empty view of the input column.</summary>
    public static (ITransformer Step, IDataView Empty) InputStep(MLContext ml, MergeFamily family, string inputColumn)
    {
        var empty = new ArrayDataViewBuilder().AddText(inputColumn, []).Build();
        var estimator = family.IsText ? ml.Merging().TokenizeText(family, inputColumn) : ml.Merging().ImagePixels(family, inputColumn);
        return (estimator.Fit(empty), empty);
    }

    /// <summary>Builds the chain serving <paramref name="tasks"/>, saves it (timestamps fixed) through a temporary file,
    /// loads it back and reads the columns its consumption code binds from the loaded model's schema.</summary>
    private static ModelZipColumns SaveZip(MLContext ml, MergeFamily family, ModelZipRequest request, IReadOnlyList<string> tasks, string? task,
        string inputColumn, string path)
    {
        var (step, empty) = InputStep(ml, family, inputColumn);
        var options = new NamedMethodOptions(request.Recipe.Method, null) { Task = task, Seed = request.Recipe.Seed };
        bool shared = task is null && TaskGraphs.Build(request.Merged, request.Aligned, tasks, new OnnxExportOptions()).Count == 1;
        var merged = MergedChain.Create(ml, family, request.Merged, request.Aligned, tasks, options, shared);
        var parts = new List<ITransformer>(step is IEnumerable<ITransformer> steps ? steps : [step]);
        parts.AddRange(merged);
        try
        {
            var chain = new TransformerChain<ITransformer>([.. parts]);
            using var saved = new MemoryStream();
            ml.Model.Save(chain, empty.Schema, saved);
            byte[] bytes = DeterministicZip.Normalise(saved.ToArray());
            AtomicFile.Write(path, s => s.Write(bytes));

            // Loaded back as a user would, in a private temp folder (deleted after): the OnnxTransformers copy their
            // models there, under names that can collide with ONNX Runtime's own format (OrtNameCollision).
            ModelZipColumns? columns = null;
            InMemoryOnnx.InPrivateContext(ml, loading =>
            {
                loading.Merging().RegisterAssembly();
                var loaded = OrtNameCollision.Retry(loading.TempFilePath, [], () =>
                {
                    var model = loading.Model.Load(new MemoryStream(bytes, writable: false), out var schema);
                    return (Model: model, Schema: schema);
                });
                try { columns = ModelZipColumns.Read(loaded.Model.GetOutputSchema(loaded.Schema), tasks, task is not null); }
                finally { (loaded.Model as IDisposable)?.Dispose(); }
            });
            return columns!;
        }
        finally
        {
            foreach (var t in merged) (t as IDisposable)?.Dispose();
        }
    }

    private static void Utf8(Stream stream, string text)
    {
        var bytes = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        stream.Write(bytes);
    }
}

/// <summary>What the generated C# of one zip says: names, the recipe it came from, the family's input, the saved columns.</summary>
/// <param name="Namespace">The generated code's namespace (the recipe's name).</param>
/// <param name="ClassName">The static class holding ModelInput, ModelOutput, Predict and the training code (<c>FashionModel</c>).</param>
/// <param name="ZipFile">The zip's file name.</param>
/// <param name="RecipeName">The recipe's name.</param>
/// <param name="Recipe">The recipe as it ran.</param>
/// <param name="Family">The family.</param>
/// <param name="InputColumn">The zip's input column.</param>
/// <param name="Task">The task the zip serves, or null for every task.</param>
/// <param name="Columns">The saved output columns.</param>
/// <param name="AlignData">Where the recipe's stage took its rows, or null without one.</param>
internal sealed record GeneratedModel(string Namespace, string ClassName, string ZipFile, string RecipeName, MergeRecipe Recipe, MergeFamily Family,
    string InputColumn, string? Task, ModelZipColumns Columns, AlignData? AlignData);
