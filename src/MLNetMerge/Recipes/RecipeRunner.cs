using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;

namespace MLNetMerge.Recipes;

/// <summary>
/// The one runner of recipes. Every entry point — <c>mlnetmerge merge</c>, <c>evaluate</c>, <c>align</c>, <c>run</c>,
/// <c>demo</c> and the library — runs a recipe through <see cref="Run"/>, choosing only which <see cref="RecipeSteps"/> run.
/// The steps, in order: <c>sweep:</c> (merge parameters selected on validation), the merge (streamed into the output folder,
/// or held in memory when a later step needs it — then written to the output in the same pass, the same bytes),
/// <c>align:</c> (stages fitted on the zoo's inputs), saving (the stages' state, the model's description files,
/// <c>recipe.yaml</c>, <c>README.md</c> and <c>manifest.json</c>, all in a temporary folder renamed into place at the end),
/// <c>evaluate:</c> (bounds, protocols and alignment rows on the zoo's test splits), <c>export:</c> (ONNX; ML.NET zips and
/// their C# are written with the output, in its <c>mlnet/</c> folder) and
/// <c>report.json</c>. Sections are read before anything runs, so a malformed one fails at once.
/// </summary>
internal static class RecipeRunner
{
    /// <summary>The output's folder of ML.NET zips and their C# (<c>export.mlnet</c>).</summary>
    internal const string ModelZipFolder = "mlnet";

    /// <summary>Runs <paramref name="recipe"/>.</summary>
    /// <exception cref="RecipeException">A malformed section, no output where one is needed, or a missing zoo.</exception>
    /// <exception cref="MergeException">Bad inputs (the message names the file and tensor).</exception>
    /// <exception cref="OutputExistsException">The output exists and <see cref="RecipeRunOptions.Overwrite"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">An output (merge folder, ONNX folder, report) is or holds an input, or is
    /// not something an earlier MLNetMerge run wrote (checked before anything runs).</exception>
    public static RecipeRunResult Run(MergeRecipe recipe, RecipeRunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        try { return RunChecked(recipe, options); }
        catch (RecipeException e) when (e.File is null && recipe.Source is { } source && source != "<flags>")
        {
            // A setting refused while the merge runs (a negative weight under sign election, a per-layer list a method
            // reads once) is the recipe's: say which file.
            throw new RecipeException(source, e.Message, e);
        }
    }

    /// <summary>The warning that a command running <paramref name="steps"/> leaves some of the recipe's sections aside
    /// (merge and diagnose run the merge alone), or null: said, not passed over.</summary>
    internal static string? SkippedSections(MergeRecipe recipe, RecipeSteps steps)
    {
        var skipped = new (string Section, RecipeSteps Step)[] { ("sweep", RecipeSteps.Sweep), ("align", RecipeSteps.Align), ("evaluate", RecipeSteps.Evaluate), ("export", RecipeSteps.Export) }
            .Where(x => recipe.Sections.ContainsKey(x.Section) && !steps.HasFlag(x.Step)).Select(x => x.Section + ":").ToList();
        return skipped.Count == 0 ? null
            : $"warning: {recipe.Source}: this command does not run {string.Join(", ", skipped)}; the merge uses the recipe's parameters{(recipe.Sections.ContainsKey("sweep") && !steps.HasFlag(RecipeSteps.Sweep) ? " and the method's defaults, not a swept choice" : "")} (mlnetmerge run does every section).";
    }

    private static string ExitLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');

    /// <summary>Reads every section of <paramref name="recipe"/> and its <c>materialize</c> list, so that a malformed one
    /// is an error whichever command runs the recipe (merge and diagnose skip sections, but not their mistakes).</summary>
    /// <exception cref="RecipeException">A malformed section.</exception>
    internal static void CheckSections(MergeRecipe recipe, IReadOnlyList<Alignment.AlignmentMethod>? alignmentMethods = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        SweepSection.Read(recipe);
        AlignSection.Read(recipe, alignmentMethods);
        EvaluateSection.Read(recipe);
        ExportSection.Read(recipe);
        foreach (var name in recipe.Materialize.Where(n => !recipe.Models.Any(m => m.Name == n)))
            throw new RecipeException(recipe.Source, $"materialize: '{name}' is not a model of the recipe ({string.Join(", ", recipe.Models.Select(m => m.Name))}).");
    }

    private static RecipeRunResult RunChecked(MergeRecipe recipe, RecipeRunOptions? options)
    {
        options ??= new RecipeRunOptions();
        var steps = options.Steps;
        var log = options.Log ?? (_ => { });
        var ct = options.CancellationToken;
        var progress = options.Progress;

        var parameters = recipe.ResolveParameters();
        var method = parameters.Method;
        // Read (and so checked) whatever the steps: a bad section is an error even for a run that skips it.
        CheckSections(recipe, options.AlignmentMethods);
        var sweep = SweepSection.Read(recipe);
        if (!steps.HasFlag(RecipeSteps.Sweep)) sweep = new SweepSection([]);
        if (SkippedSections(recipe, steps) is { } skipped) log(skipped);
        var plan = steps.HasFlag(RecipeSteps.Align) ? AlignSection.Read(recipe, options.AlignmentMethods) : null;
        if (plan is { Stages.Count: 0 }) plan = null;
        // A run that saves evaluates when the recipe asks (evaluate:); evaluate and align always evaluate.
        bool evaluate = steps.HasFlag(RecipeSteps.Evaluate) && (recipe.Sections.ContainsKey("evaluate") || !steps.HasFlag(RecipeSteps.Save));
        var evaluation = EvaluateSection.Read(recipe);
        var export = steps.HasFlag(RecipeSteps.Export) ? ExportSection.Read(recipe) : null;
        string? output = steps.HasFlag(RecipeSteps.Save) ? options.Output ?? recipe.Output : null;
        if (steps == RecipeSteps.Merge && output is null) throw new RecipeException(recipe.Source, "no output directory: set 'output' or pass --output.");
        if (export is { MLNet: not MLNetZipLayout.None })
        {
            if (output is null) throw new RecipeException(recipe.Source, "export.mlnet: the ML.NET zips are written beside the merged model, in the output's mlnet/ folder; set 'output' or pass --output.");
            if (options.ModelZips is null) throw new RecipeException(recipe.Source, "export.mlnet: this entry point does not write ML.NET zips; run the recipe with 'mlnetmerge run' or MergingCatalog.RunRecipe.");
            if (plan is { Stages.Count: > 1 }) throw new RecipeException(recipe.Source, $"export.mlnet: the align section has {plan.Stages.Count} stages; an ML.NET zip holds one merge and at most one stage.");
            // The zips' training code calls mlContext.Merging().Merge(family, method, parameters), which takes global parameters only.
            if (recipe.Models.FirstOrDefault(m => m.Parameters.Count > 0) is { } perModel)
                throw new RecipeException(recipe.Source, $"export.mlnet: model '{perModel.Name}' has per-model parameters, which have no place in mlContext.Merging().Merge(family, method, parameters); set them globally to export ML.NET zips.");
            options.ModelZips.Check(recipe, export);
        }
        if (export?.Onnx is not null && plan is { Stages.Count: > 1 })
            throw new RecipeException(recipe.Source, $"export.onnx: the align section has {plan.Stages.Count} stages; an export holds one merge and at most one stage (the graphs run it).");
        if (export is { Onnx: not null, MultiHead: true } && (method.IsPerTask || plan?.Stages.Any(st => st is TintingEstimator { PerTaskBlock: true }) == true))
            throw new RecipeException(recipe.Source, $"export.multi_head: the tasks run their own encoder weights ({(method.IsPerTask ? method.Name : "a tinted block per task")}), so they cannot share one multi-head encoder; export per_task.");
        if (export is { Onnx: not null, SingleFile: true } && plan is not null)
            throw new RecipeException(recipe.Source, "export.single_file: EMR's single file builds each task's weights from the merge's masks in the graph and cannot run an alignment stage; export per_task or multi_head.");
        if (export is { Onnx: not null, SingleFile: true } && method.Name != "emr")
            throw new RecipeException(recipe.Source, $"export.single_file: the single file rebuilds each task's weights from EMR's masks and rescalers; {method.Name} has none. Export per_task or multi_head.");
        if (plan is not null && evaluate && !evaluation.Protocols.Contains("current"))
            throw new RecipeException(recipe.Source, "evaluate.protocols: alignment rows are normalised by the individual models' Current Eval; keep 'current' among the protocols.");
        bool onnx = OnnxRecipes.IsOnnxRecipe(recipe);
        if (onnx) OnnxRecipes.CheckFamily(recipe);
        foreach (var name in recipe.Materialize.Concat(options.Materialize).Where(n => !recipe.Models.Any(m => m.Name == n)))
            throw new RecipeException(recipe.Source, $"materialize: '{name}' is not a model of the recipe ({string.Join(", ", recipe.Models.Select(m => m.Name))}).");
        var materialize = recipe.Materialize.Concat(options.Materialize)
            .Concat(onnx && method.IsPerTask ? recipe.Models.Select(m => m.Name) : []).Distinct(StringComparer.Ordinal).ToList();

        bool needTasks = !sweep.IsEmpty || plan is not null || evaluate;
        string defaultZoo = Path.GetDirectoryName(recipe.Base)!;
        // What this run reads: no output it writes may be, or hold, one of these (an overwrite would delete it).
        var inputs = RecipeInputs.Of(recipe, needTasks ? evaluation.Zoo ?? defaultZoo : null, plan?.Data.Zoo);
        string? reportPath = evaluate && steps.HasFlag(RecipeSteps.Report) ? RecipeInputs.ReportPath(recipe, options.Report ?? evaluation.Report, output) : null;
        RecipeInputs.CheckOutputs(recipe, inputs, output, export?.Onnx, reportPath, options.Overwrite);

        using var family = recipe.OpenFamily(new ModelFamilyOptions { Reader = new SafetensorsReaderOptions { MemoryMap = options.MemoryMap } });
        // A config beside the base that describes no encoder the engine runs is passed over, but not in silence: the
        // output then carries no config.json (a malformed one was dropped without a word).
        if (family.ArchitectureProblem is { } problem)
            log($"warning: {ExitLine(problem)} — the merge runs without the encoder; its output gets the base's config.json as it is.");
        var suite = needTasks ? TaskSuite.Load(evaluation.Zoo ?? defaultZoo, family, recipe.Source) : null;
        if (suite is not null && evaluate) RecipeInputs.CheckShots(evaluation, suite, recipe.Source);
        var exec = new MergeExecutionOptions
        {
            AllowNonFinite = recipe.AllowNonFinite, OutputDType = recipe.DType, Seed = recipe.Seed, MaxThreads = options.MaxThreads, Materialize = materialize,
        };

        // 1. sweep: every grid point merged in memory and scored on validation (Current).
        var points = new List<SweepPoint>();
        var chosen = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!sweep.IsEmpty)
        {
            log("sweep: selecting merge parameters on validation");
            var current = new[] { (EvaluationProtocol)new CurrentProtocol() };
            foreach (var point in sweep.Points())
            {
                var candidate = MergeExecutor.RunInMemory(family, method, recipe.WithParameters(point).ResolveParameters(), exec with { Materialize = [] }, progress, cancellationToken: ct);
                var row = ModelEvaluator.Evaluate(method.Name, family.Session, task => family.Session.WeightsFor(candidate, task), suite!.Tasks, current,
                    onValidation: true, progress: progress, cancellationToken: ct);
                points.Add(new SweepPoint(point, row.Average("current")));
                log($"sweep {SweepSection.Describe(point)}: validation {points[^1].ValidationAccuracy:P2}");
            }
            chosen = new Dictionary<string, double>(points.MaxBy(p => p.ValidationAccuracy)!.Parameters, StringComparer.Ordinal); // first best on ties
            log($"sweep: chose {SweepSection.Describe(chosen)}");
        }
        var resolved = chosen.Count > 0 ? recipe.WithParameters(chosen) : recipe;
        var finalParameters = resolved.ResolveParameters();

        // 2. merge, into the output's temporary folder and/or memory.
        var stamps = InputStamps.Take(recipe.Models.Select(m => m.Path).Prepend(recipe.Base));
        using var outputDir = output is null ? null : AtomicDirectory.Begin(output, options.Overwrite, inputs, log);
        using var sink = outputDir is null ? null
            // The recipe the metadata records is the one saved as recipe.yaml (materialize from the command line included),
            // so that running the saved recipe writes the same bytes.
            : new DirectoryMergeSink(outputDir.TempPath, ModelMetadata(family, finalParameters, resolved with { Materialize = materialize }), recipe.MaxShardBytes ?? long.MaxValue);
        bool inMemory = needTasks || export is not null;
        log($"merge: {method.Name} over {family.Tasks.Count} models{(output is null ? "" : " → " + output)}");
        MergedModel? merged = null;
        MergeSummary summary;
        if (inMemory)
        {
            merged = MergeExecutor.RunInMemory(family, method, finalParameters, exec, progress, alsoTo: sink, cancellationToken: ct);
            summary = merged.Summary;
        }
        else summary = MergeExecutor.Run(family, method, finalParameters, sink!, exec, progress, ct);
        ct.ThrowIfCancellationRequested();
        foreach (var warning in summary.Warnings) log($"warning: {warning}");

        // 3. align: every stage fitted on the merged model (few-shot stages once per seed).
        var rows = plan is null ? [] : AlignmentRows.Fit(plan, method.Name, merged!, family, suite!, recipe.Seed, chosen, log, progress, ct);
        var aligned = rows.Select(r => r.Models[0]).ToList();
        IReadOnlyList<string> modelZips = [];

        // 4. save: the stages' state and the files that describe the output, then the rename.
        if (outputDir is not null)
        {
            // An encoder the engine runs brings its config and settings files; a config it cannot run (another model_type,
            // warned about above) is copied as it is, as mergekit copies the base's.
            var modelFiles = family.HasArchitecture ? OutputWriter.CopyModelFiles(family.Architecture, outputDir)
                : !onnx && family.ArchitectureProblem is not null && ModelArchitecture.ConfigBeside(recipe.Base) is { } foreignConfig
                    ? OutputWriter.CopyFile(foreignConfig, outputDir, "config.json") : [];
            OutputWriter.WriteStages(aligned, outputDir);
            var onnxFiles = onnx ? OnnxRecipes.WriteOnnxOutputs(recipe, outputDir.TempPath, new Checkpoints.Onnx.OnnxWriteOptions()) : [];
            if (export is { MLNet: not MLNetZipLayout.None })
            {
                var written = options.ModelZips!.Write(new ModelZipRequest(family, merged!, aligned.Count == 1 ? aligned[0] : null, resolved, export,
                    outputDir.PathOf(ModelZipFolder), plan?.Data));
                modelZips = [.. written.Select(f => ModelZipFolder + "/" + f)];
                log($"export: {modelZips.Count} ML.NET file(s) in {Path.Combine(outputDir.FinalPath, ModelZipFolder)}");
            }
            var saved = resolved with { Materialize = materialize, Output = outputDir.FinalPath, Sections = SavedSections(resolved) };
            File.WriteAllText(outputDir.PathOf("recipe.yaml"), RecipeWriter.Write(saved, finalParameters, relativeTo: outputDir.FinalPath));
            stamps.Check(); // the hashes below describe what was merged only if nothing changed meanwhile
            var hashes = new[] { ("base", recipe.Base) }.Concat(recipe.Models.Select(m => (m.Name, m.Path)))
                .Select(x => (x.Item1, Path.GetFileName(x.Item2), FileHashes.Sha256(x.Item2))).ToList();
            File.WriteAllText(outputDir.PathOf("README.md"), ModelCard.Write(summary, hashes, sink!.Files));
            var extra = new Dictionary<string, string>
            {
                ["base"] = Path.GetRelativePath(outputDir.FinalPath, recipe.Base).Replace('\\', '/'), ["base_sha256"] = hashes[0].Item3,
            };
            OutputWriter.WriteManifest(outputDir.PathOf("manifest.json"), summary, extra, [.. sink.Files, .. onnxFiles],
                OutputWriter.PipelineEntries(recipe.Seed, modelFiles.Count > 0 || onnxFiles.Contains("config.json"), aligned));
            ct.ThrowIfCancellationRequested();
            outputDir.Commit();
            log($"saved: {outputDir.FinalPath}");
        }

        // 5. evaluate: bounds (cached per family), the merge under every protocol, and the alignment rows.
        RecipeEvaluation? result = null;
        if (evaluate)
        {
            result = Evaluate(recipe, evaluation, family, suite!, merged!, chosen, points, options.Bounds, log, progress, ct) with { Alignment = rows };
        }

        // 6. report, then 7. export (a failing export keeps the report).
        string? report = null;
        if (result is not null && reportPath is not null)
        {
            report = reportPath;
            RecipeInputs.CheckReport(report);
            RunReport.Write(report, [RunReport.Entry(result, RecipeName(recipe), plan)]);
            log($"report: {Path.GetFullPath(report)}");
        }
        var exported = export?.Onnx is null ? [] : Export(merged!, aligned.Count == 1 ? aligned[0] : null, family, export, options.Overwrite, [.. inputs, .. output is null ? [] : new[] { output }], log);
        return new RecipeRunResult(summary, merged, aligned, chosen, result, outputDir?.FinalPath, report is null ? null : Path.GetFullPath(report), exported)
        {
            ModelZips = modelZips,
        };
    }

    /// <summary>The merge alone, streamed into the output folder (<c>mlnetmerge merge</c>): <see cref="Run"/> with
    /// <see cref="RecipeSteps.Merge"/>, whatever steps <paramref name="options"/> name.</summary>
    /// <exception cref="RecipeException">No output folder, or bad parameters.</exception>
    public static MergeSummary Merge(MergeRecipe recipe, RecipeRunOptions? options = null) =>
        Run(recipe, (options ?? new RecipeRunOptions()).WithSteps(RecipeSteps.Merge)).Summary;

    /// <summary>The recipe's name in reports: its file name without extension (<c>recipe</c> for text without a file).</summary>
    public static string RecipeName(MergeRecipe recipe) =>
        recipe?.Source is { } s && s != "<flags>" ? Path.GetFileNameWithoutExtension(s) : "recipe";

    private static RecipeEvaluation Evaluate(MergeRecipe recipe, EvaluateSection section, ModelFamily family, TaskSuite suite, MergedModel merged,
        IReadOnlyDictionary<string, double> chosen, IReadOnlyList<SweepPoint> points, RecipeBoundsCache? bounds, Action<string> log,
        IProgress<MergeProgress>? progress, CancellationToken ct)
    {
        var session = family.Session;
        var protocols = Protocols(section, recipe.Seed, family, suite, ct);
        string key = RecipeBoundsCache.Key(recipe, section, suite.ZooDirectory);
        if (bounds is null || !bounds.TryGet(key, out var baseRow, out var individual))
        {
            var baseWeights = session.ReadWeights(family.Base);
            baseRow = ModelEvaluator.Evaluate("base", session, _ => n => baseWeights[n], suite.Tasks, protocols, progress: progress, cancellationToken: ct);
            individual = ModelEvaluator.Evaluate("individual", session, task =>
            {
                var w = session.ReadWeights(family.Reader(task));
                return n => w[n];
            }, suite.Tasks, protocols, progress: progress, cancellationToken: ct);
            bounds?.Add(key, baseRow, individual);
        }
        log($"bounds: base {baseRow.Average(protocols[0].Name):P1}, individual {individual.Average(protocols[0].Name):P1} ({protocols[0].Name})");
        string label = recipe.AliasName ?? merged.Summary.Method.Name; // a mergekit alias keeps its own row name (della_linear, not della)
        var mergedRow = ModelEvaluator.Evaluate(label, session, task => session.WeightsFor(merged, task), suite.Tasks, protocols,
            hyperparameters: chosen, progress: progress, cancellationToken: ct);
        return new RecipeEvaluation(suite.Manifest.Name, label, suite.Tasks.Select(t => t.Name).ToList(), protocols.Select(p => p.Name).ToList(),
            mergedRow, individual, baseRow, points);
    }

    /// <summary>The section's protocols; <c>ft_classifier</c> becomes one FT-Classifier Eval per k, taught by each task's
    /// fine-tuned model (its logits on the validation pool).</summary>
    private static List<EvaluationProtocol> Protocols(EvaluateSection section, ulong seed, ModelFamily family, TaskSuite suite, CancellationToken ct)
    {
        var result = new List<EvaluationProtocol>();
        foreach (var p in section.Protocols)
        {
            switch (p)
            {
                case "current": result.Add(new CurrentProtocol()); break;
                case "knn": result.Add(new KnnProtocol(section.Shots, section.Seeds, seed)); break;
                default:
                    var teachers = suite.Tasks.ToDictionary(t => t.Name,
                        t => t.Head.Logits(family.Session.EmbedCheckpoint(family.Reader(t.Name), t.Validation, ct), t.Validation.Count), StringComparer.Ordinal);
                    foreach (int k in section.FtcShots) result.Add(new FtClassifierEvalProtocol(k, section.Seeds, teachers, seed: seed));
                    break;
            }
        }
        return result;
    }

    private static IReadOnlyList<string> Export(MergedModel merged, AlignedModel? stage, ModelFamily family, ExportSection export, bool overwrite, IReadOnlyList<string> inputs, Action<string> log)
    {
        var files = MLNetMerge.Export.OnnxExport.Write(merged, stage, export.Onnx!, new MLNetMerge.Export.OnnxExportOptions
        {
            PerTask = export.PerTask, MultiHead = export.MultiHead, PerTaskSingleFile = export.SingleFile,
            BaseModel = export.SingleFile ? family.Base : null, Overwrite = overwrite, Inputs = inputs, Log = log,
        });
        log($"export: {files.Count} file(s) in {export.Onnx}{(stage is null ? "" : $" (the merge after {stage.Method})")}");
        return files;
    }

    /// <summary>The safetensors <c>__metadata__</c> of every output file: the base's, the format, the method and the
    /// portable recipe (parameters, models by file name; no path, so the bytes do not depend on where anything sits).</summary>
    private static Dictionary<string, string> ModelMetadata(ModelFamily family, MergeParameters parameters, MergeRecipe recipe)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal); // the header encoder sorts the keys
        foreach (var (k, v) in family.Base.Metadata) metadata[k] = v;
        metadata["format"] = "pt";
        metadata["mlnetmerge.method"] = parameters.Method.Name;
        metadata["mlnetmerge.recipe"] = RecipeWriter.Write(recipe with { Output = null, Sections = new Dictionary<string, YamlDotNet.RepresentationModel.YamlNode>() },
            parameters, relativeTo: null);
        return metadata;
    }

    /// <summary>The sections a saved recipe keeps: its sweep's choice is baked into the parameters, so the sweep goes.</summary>
    private static IReadOnlyDictionary<string, YamlDotNet.RepresentationModel.YamlNode> SavedSections(MergeRecipe recipe) =>
        recipe.Sections.Where(kv => kv.Key != "sweep").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
}
