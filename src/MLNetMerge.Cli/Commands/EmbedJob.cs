using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Encoders;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// One <c>mlnetmerge embed</c> run: load an encoder, run it over an NPY batch (float32 images/features, or int64 token ids
/// with an optional mask for text), optionally apply a linear head, and write float32 NPY (N, E) or (N, K). Inputs are
/// checked against what the model takes before anything runs (<see cref="EmbedInputs"/>), and the output file is written
/// only when it is new or <see cref="Force"/> is set.
/// </summary>
internal sealed record EmbedJob
{
    /// <summary>The checkpoint.</summary>
    public required string ModelPath { get; init; }
    /// <summary>Output NPY path.</summary>
    public required string OutputPath { get; init; }
    /// <summary>Input NPY path.</summary>
    public required string InputPath { get; init; }
    /// <summary>Architecture name, or null for config.json's <c>model_type</c>.</summary>
    public string? Architecture { get; init; }
    /// <summary>config.json, or null for the one beside the model.</summary>
    public string? ConfigPath { get; init; }
    /// <summary>Text only: attention mask NPY (N, T), nonzero = real token.</summary>
    public string? MaskPath { get; init; }
    /// <summary>Linear head checkpoint; when set, logits are written instead of embeddings.</summary>
    public string? HeadPath { get; init; }
    /// <summary>The task whose head to use from a merge output's <c>heads.safetensors</c> (<see cref="HeadPath"/>, else the
    /// one beside the model); null: <see cref="HeadPath"/> holds one head.</summary>
    public string? Task { get; init; }
    /// <summary>Examples per forward pass (at least 1).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Text only: pooling of the hidden states; null: the model's own (its <c>1_Pooling/config.json</c>, else the pooler).</summary>
    public TextPooling? Pooling { get; init; }
    /// <summary>OpenCLIP only: the MLP activation (not stored in its checkpoints).</summary>
    public ActivationKind OpenClipActivation { get; init; } = ActivationKind.QuickGelu;
    /// <summary>Vision only: how uint8 pixels become model inputs (<see cref="EmbedInputs.ZooPixels"/>); null refuses uint8 input.</summary>
    public string? Pixels { get; init; }
    /// <summary>Replace an existing output file.</summary>
    public bool Force { get; init; }

    /// <summary>Runs the job and returns the written array's shape.</summary>
    /// <exception cref="MergeException">Bad inputs: the message names the file and what was expected.</exception>
    public (int Count, int Width) Run(CancellationToken cancellationToken = default)
    {
        if (BatchSize < 1) throw new MergeException(null, null, $"--batch-size must be at least 1; got {BatchSize}.");
        OutputFiles.CheckNewNpy(OutputPath, Force, [ModelPath, InputPath, MaskPath, HeadPath, ConfigPath]);
        using var reader = OpenWeights();
        ArchitectureKind? kind;
        try { kind = Architecture is null ? null : ModelArchitecture.Parse(Architecture); }
        catch (ArgumentException e) { throw new MergeException(null, null, e.Message, e); }
        var architecture = ModelArchitecture.Load(reader, ConfigPath, kind, OpenClipActivation);
        using var headReader = OpenHead(out string headPrefix);
        var session = new EncoderSession(architecture);
        float[] output;
        int count;
        if (architecture.Text is not { } text)
        {
            if (MaskPath is not null) throw new MergeException(MaskPath, null, $"--mask applies to text models (token ids); {session.Model.ArchitectureName} takes no attention mask.");
            if (Pooling is not null) throw new MergeException(null, null, $"--pooling applies to text models; {session.Model.ArchitectureName} has its own pooling.");
            var dense = session.Model;
            var (data, shape) = EmbedInputs.ReadDense(InputPath, dense,
                architecture.Vision is { } v ? [v.NumChannels, v.ImageSize, v.ImageSize] : null, Pixels);
            count = shape[0];
            LoadWeights(session, reader);
            output = EncoderInference.Embed(dense, data, count, BatchSize, cancellationToken);
        }
        else
        {
            if (Pixels is not null) throw new MergeException(null, null, $"--pixels applies to vision models; {session.Model.ArchitectureName} takes token ids.");
            var encoder = ((TextDenseEncoder)session.Model).Model;
            var (tokenIds, mask, shape) = EmbedInputs.ReadText(InputPath, MaskPath, encoder.Config);
            count = shape[0];
            LoadWeights(session, reader);
            if (Pooling == TextPooling.Pooler && !encoder.Config.Pooler)
                throw new MergeException(ModelPath, null, "--pooling pooler: the model has no pooler (no pooler.dense weights); its default is the first token (--pooling cls), or pass --pooling mean.");
            output = EncoderInference.EmbedText(encoder, tokenIds, mask, count, shape[1], Pooling ?? text.Pooling, BatchSize, cancellationToken);
        }
        int width = count == 0 ? session.EmbeddingSize : output.Length / count;
        if (headReader is not null)
        {
            var head = LinearHead.Load(headReader, headPrefix);
            if (head.EmbeddingSize != width) throw new MergeException(headReader.Path, null, $"the head expects {head.EmbeddingSize}-wide embeddings; the model gives {width}.");
            output = EncoderInference.Classify(head, output, count);
            width = head.Classes;
        }
        // Checked again at the rename: a file that appeared, or changed, while the model ran is not replaced.
        try
        {
            NpyFile.Write(OutputPath, output, [count, width], existing => OutputFiles.CheckReplace(existing, Force), temp =>
            {
                try { OutputFiles.RecordPending(OutputPath, temp); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the entry after the rename still comes
            });
        }
        catch (IOException) when (File.Exists(OutputPath))
        {
            throw new OutputExistsException(Path.GetFullPath(OutputPath));
        }
        TempFolders.NoteCommitted(Path.GetFullPath(OutputPath));
        try { OutputFiles.Record(OutputPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The array is written; only the record that lets a later --force replace it is not.
            Console.Error.WriteLine($"warning: {OutputPath} is written, but its entry in {OutputFiles.LedgerName} is not ({e.Message}); a later --force will not replace it.");
        }
        return (count, width);
    }

    /// <summary>Loads the encoder's weights, refusing a non-finite one (every embedding would be NaN).</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing, mis-shaped, or holds NaN or ±∞.</exception>
    private static void LoadWeights(EncoderSession session, ICheckpointReader reader)
    {
        var weights = session.ReadWeights(reader);
        foreach (var (name, values) in weights)
        {
            int bad = Array.FindIndex(values, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new CheckpointFormatException(reader.Path, session.Prefix + name, $"holds {values[bad]} at element {bad}; a non-finite weight makes every embedding NaN.");
        }
        session.Load(name => weights[name]);
    }

    /// <summary>The head's checkpoint and the prefix of its tensors: <see cref="HeadPath"/> alone, or with <see cref="Task"/>
    /// that task's head in <c>heads.safetensors</c> (given, or beside the model); null when no head is asked for.</summary>
    /// <summary>
    /// The weights to run: with <see cref="Task"/> and a merge output whose tasks run their own weights (EMR, TALL masks,
    /// CART indexing), that task's — materialized in <c>tasks/T.safetensors</c>, or rebuilt from EMR's masks and rescalers
    /// with the base its manifest records; otherwise the checkpoint as it is. The weights keep the output folder's path, so
    /// its <c>config.json</c> and tokenizer files are found beside them.
    /// </summary>
    /// <exception cref="MergeException">The task's own weights are neither materialized nor rebuildable.</exception>
    private ICheckpointReader OpenWeights()
    {
        if (Task is null || !Directory.Exists(ModelPath) || !File.Exists(Path.Combine(ModelPath, "manifest.json"))) return CheckpointReader.Open(ModelPath);
        string folder = Path.GetFullPath(ModelPath);
        using (var doc = Recipes.OutputFormat.OpenManifest(folder, out _))
            if (!doc.RootElement.TryGetProperty("per_task", out var perTask) || !perTask.GetBoolean()) return CheckpointReader.Open(ModelPath);
        var merged = Recipes.OutputFormat.LoadMerged(folder);
        if (!merged.TaskNames.Contains(Task))
            throw new MergeException(folder, null, $"--task {Task}: the merge's tasks are {string.Join(", ", merged.TaskNames)}.");
        string method = merged.Summary.Method.Name;
        Func<string, float[]> own;
        ICheckpointReader? baseModel = null;
        if (merged.TaskTensors.TryGetValue(Task, out var materialized)) own = name => materialized.TryGetValue(name, out var v) ? v : merged.Tensors[name];
        else if (Export.EmrTaskWeights.CanRebuild(merged) && Recipes.OutputFormat.RecordedBase(folder) is { } basePath)
        {
            baseModel = CheckpointReader.Open(basePath);
            var rebuild = new Export.EmrTaskWeights(merged, baseModel);
            own = name => rebuild.Rebuild(Task, name);
        }
        else
            throw new MergeException(folder, null, $"gives each task its own weights ({method}), and task '{Task}''s are not in it: merge with --materialize {Task}" +
                (Export.EmrTaskWeights.CanRebuild(merged) ? ", or keep the base its manifest records where it was (they are rebuilt from it)." : "."));
        try
        {
            var weights = new InMemoryCheckpoint(Path.Combine(folder, "model.safetensors"));
            foreach (var entry in merged.Layout)
            {
                if (merged.Tensors.ContainsKey(entry.Name)) weights.Add(entry.Name, entry.Shape, own(entry.Name));
                else weights.AddRaw(entry.Name, entry.Shape, entry.DType, merged.RawTensors[entry.Name]);
            }
            return weights;
        }
        finally { baseModel?.Dispose(); }
    }

    private ICheckpointReader? OpenHead(out string prefix)
    {
        prefix = "";
        if (Task is null)
        {
            if (HeadPath is null) return null;
            var single = CheckpointReader.Open(HeadPath);
            // A fine-tuned checkpoint given as --head: its head is the one 2-D weight under the default head pattern
            // (classifier.weight), whatever encoder weights sit beside it.
            var filter = new HeadFilter(HeadFilter.DefaultPattern);
            var headWeights = single.Tensors.Where(t => filter.IsHead(t.Name) && t.Shape.Length == 2 && t.Name.EndsWith("weight", StringComparison.Ordinal)).ToList();
            if (headWeights.Count == 1 && single.Tensors.Any(t => !filter.IsHead(t.Name)))
            {
                prefix = headWeights[0].Name[..^"weight".Length];
                return single;
            }
            var tasks = TaskHeads.Tasks(single);
            if (tasks.Count > 1 && single.Tensors.Count(t => t.Shape.Length == 2 && t.Name.EndsWith("weight", StringComparison.Ordinal)) > 1)
            {
                single.Dispose();
                throw new MergeException(HeadPath, null, $"holds the heads of several tasks ({string.Join(", ", tasks)}); pick one with --task NAME.");
            }
            return single;
        }
        string path = HeadPath ?? Path.Combine(Directory.Exists(ModelPath) ? ModelPath : Path.GetDirectoryName(Path.GetFullPath(ModelPath))!, "heads.safetensors");
        if (!File.Exists(path))
            throw new MergeException(path, null, "--task needs a merge output's heads.safetensors (beside the model, or given with --head); there is none.");
        var reader = CheckpointReader.Open(path);
        var names = TaskHeads.Tasks(reader);
        if (!names.Contains(Task))
        {
            reader.Dispose();
            throw new MergeException(path, null, $"has no head of task '{Task}'; its tasks are: {(names.Count == 0 ? "none" : string.Join(", ", names))}.");
        }
        prefix = Task + ".";
        return reader;
    }
}

/// <summary>The task names of a merge output's <c>heads.safetensors</c>: the part of each tensor name before its first dot.</summary>
internal static class TaskHeads
{
    /// <summary>The distinct task names, in order of first appearance.</summary>
    public static List<string> Tasks(ICheckpointReader heads) =>
        heads.Tensors.Select(t => t.Name.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot ? t.Name[..dot] : "").Where(n => n.Length > 0)
            .Distinct(StringComparer.Ordinal).ToList();
}
