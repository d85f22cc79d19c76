using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using Google.Protobuf;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Export;
using MLNetMerge.Merging;
using MLNetMerge.MLNet;

namespace MLNetMerge;

/// <summary>
/// A fitted merge as ML.NET components: per encoder graph (<see cref="TaskGraphs"/>) ML.NET's <c>OnnxTransformer</c>
/// with outputs <c>Embedding</c> and one softmax <c>Score</c> per task, then per task the savable steps from
/// <c>Score</c> to a <c>PredictedLabel</c> key over the class names. Column names follow <see cref="MergeColumns"/>:
/// plain for a transformer serving one task, suffixed <c>.{task}</c> for one serving every task (<c>Embedding</c>
/// stays plain when every task runs the same encoder weights).
/// </summary>
internal static class MergedChain
{
    /// <summary>The chain serving <paramref name="tasks"/>.</summary>
    public static TransformerChain<ITransformer> Create(MLContext ml, MergeFamily family, MergedModel merged, AlignedModel? aligned,
        IReadOnlyList<string> tasks, MergeOptions options, bool sharedEncoder)
    {
        bool single = options.Task is not null;
        var transformers = new List<ITransformer>();
        try
        {
            foreach (var (graph, model, outputs) in Graphs(merged, aligned, tasks, single, sharedEncoder))
            {
                // Building a graph's OnnxTransformer is most of a short fit's time: the caller's token is honoured here too
                // (the transformers built so far are disposed below).
                options.CancellationToken.ThrowIfCancellationRequested();
                byte[] bytes = model.ToByteArray();
                var settings = Settings(family, [.. outputs], options);
                var onnx = InMemoryOnnx.Create(ml, bytes, settings);
                transformers.Add(onnx);
                var scored = onnx.Transform(InMemoryOnnx.EmptyInputs(OnnxSignature.Read(bytes), settings));
                foreach (var task in graph.Tasks)
                {
                    var label = PredictedLabelSteps.Create(ml, family.ClassNames(task), Column(MergeColumns.Score, task, single), Column(MergeColumns.PredictedLabel, task, single)).Fit(scored);
                    transformers.Add(label);
                    scored = label.Transform(scored);
                }
            }
            options.CancellationToken.ThrowIfCancellationRequested();
            return new TransformerChain<ITransformer>([.. transformers]);
        }
        catch
        {
            foreach (var t in transformers) (t as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>The graphs serving <paramref name="tasks"/>, their outputs named as the chain's columns (<c>Embedding</c>,
    /// <c>Score</c>, suffixed <c>.{task}</c> unless <paramref name="single"/>); the logits stay as outputs too.</summary>
    public static List<(TaskGraph Graph, ModelProto Model, List<string> Outputs)> Graphs(MergedModel merged, AlignedModel? aligned,
        IReadOnlyList<string> tasks, bool single, bool sharedEncoder)
    {
        var graphs = TaskGraphs.Build(merged, aligned, tasks, new OnnxExportOptions());
        if (sharedEncoder && graphs.Count != 1)
            throw new InvalidOperationException($"the fitted model runs {graphs.Count} encoders where one shared encoder was expected.");
        var result = new List<(TaskGraph, ModelProto, List<string>)>();
        foreach (var graph in graphs)
        {
            var outputs = new List<string>();
            var model = graph.Model;
            if (single || sharedEncoder)
            {
                TaskGraphs.RenameOutput(model, TaskGraph.EmbeddingOutput, MergeColumns.Embedding);
                outputs.Add(MergeColumns.Embedding);
            }
            else
            {
                foreach (var task in graph.Tasks) outputs.Add(AddIdentity(model, TaskGraph.EmbeddingOutput, MergeColumns.ForTask(MergeColumns.Embedding, task)));
            }
            foreach (var task in graph.Tasks)
            {
                string score = Column(MergeColumns.Score, task, single);
                OnnxScoreOutput.AppendSoftmax(model, TaskGraph.LogitsOutput(task), score);
                outputs.Add(score);
            }
            result.Add((graph, model, outputs));
        }
        return result;
    }

    /// <summary>The columns a chain of <paramref name="tasks"/> adds to <paramref name="input"/>, before any model exists.</summary>
    public static SchemaShape OutputSchema(MLContext ml, MergeFamily family, IReadOnlyList<string> tasks, bool single, bool sharedEncoder, SchemaShape input)
    {
        CheckInput(family, input);
        var groups = sharedEncoder || single ? [tasks] : tasks.Select(t => (IReadOnlyList<string>)[t]).ToList();
        var shape = input;
        foreach (var group in groups)
        {
            var outputs = new List<OnnxTensorSpec>();
            if (single || sharedEncoder) outputs.Add(new OnnxTensorSpec(MergeColumns.Embedding, OnnxElementType.Float, [-1, family.EmbeddingSize]));
            else outputs.Add(new OnnxTensorSpec(MergeColumns.ForTask(MergeColumns.Embedding, group[0]), OnnxElementType.Float, [-1, family.EmbeddingSize]));
            foreach (var task in group)
                outputs.Add(new OnnxTensorSpec(Column(MergeColumns.Score, task, single), OnnxElementType.Float, [-1, family.ClassNames(task).Count]));
            var signature = new OnnxSignature(Inputs(family), outputs);
            shape = InMemoryOnnx.OutputSchema(ml, signature, Settings(family, [.. outputs.Select(o => o.Name)], null), shape);
            foreach (var task in group)
                shape = PredictedLabelSteps.Create(ml, family.ClassNames(task), Column(MergeColumns.Score, task, single), Column(MergeColumns.PredictedLabel, task, single)).GetOutputSchema(shape);
        }
        return shape;
    }

    /// <summary>Checks that <paramref name="schema"/> has the family's input columns, of the right type and size.</summary>
    /// <exception cref="ArgumentException">A column is missing or mistyped (one line naming it and what was expected).</exception>
    public static void CheckInput(MergeFamily family, DataViewSchema schema)
    {
        foreach (var spec in Inputs(family))
        {
            int width = family.IsText ? family.SequenceLength : spec.RowSize;
            var itemType = spec.Type == OnnxElementType.Int64 ? NumberDataViewType.Int64 : (PrimitiveDataViewType)NumberDataViewType.Single;
            var column = schema.GetColumnOrNull(spec.Name)
                ?? throw new ArgumentException($"the input has no column '{spec.Name}'; the family's encoder reads a vector of {width} {itemType} from it (columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}).");
            if (column.Type is not VectorDataViewType vector || vector.ItemType != itemType || vector.Size != width)
                throw new ArgumentException($"input column '{spec.Name}' is {column.Type}; the family's encoder expects a vector of {width} {itemType}.");
        }
    }

    /// <summary>What <see cref="CheckInput(MergeFamily, DataViewSchema)"/> checks of a <see cref="SchemaShape"/>, which
    /// knows no vector sizes: each input column is there, of the item type, and a vector of fixed size.</summary>
    /// <exception cref="ArgumentException">A column is missing or mistyped (one line naming it and what was expected).</exception>
    public static void CheckInput(MergeFamily family, SchemaShape shape)
    {
        foreach (var spec in Inputs(family))
        {
            int width = family.IsText ? family.SequenceLength : spec.RowSize;
            var itemType = spec.Type == OnnxElementType.Int64 ? NumberDataViewType.Int64 : (PrimitiveDataViewType)NumberDataViewType.Single;
            string expected = $"the family's encoder expects a vector of {width} {itemType}";
            if (shape.Where(c => c.Name == spec.Name).Select(c => (SchemaShape.Column?)c).LastOrDefault() is not { } column)
                throw new ArgumentException($"the input has no column '{spec.Name}'; {expected} (columns: {string.Join(", ", shape.Select(c => c.Name))}).");
            string? found = column.ItemType != itemType || column.IsKey ? $"of {column.ItemType}{(column.IsKey ? " keys" : "")}"
                : column.Kind == SchemaShape.Column.VectorKind.Scalar ? "a scalar"
                : column.Kind == SchemaShape.Column.VectorKind.VariableVector ? "a vector of variable size" : null;
            if (found is not null)
                throw new ArgumentException($"input column '{spec.Name}' is {(found.StartsWith("of ", StringComparison.Ordinal) ? (column.Kind == SchemaShape.Column.VectorKind.Scalar ? "a scalar " : "a vector ") : "")}{found}; {expected}.");
        }
    }

    /// <summary>The encoder's inputs as the exported graphs declare them.</summary>
    private static OnnxTensorSpec[] Inputs(MergeFamily family) =>
        family.IsText
            ? [new(MergeColumns.InputIds, OnnxElementType.Int64, [-1, -1]), new(MergeColumns.AttentionMask, OnnxElementType.Int64, [-1, -1])]
            : family.FeatureSize > 0
                ? [new(MergeColumns.PixelValues, OnnxElementType.Float, [-1, family.FeatureSize])]
                : [new(MergeColumns.PixelValues, OnnxElementType.Float, [-1, family.ImageChannels, family.ImageSize, family.ImageSize])];

    private static OnnxScoringSettings Settings(MergeFamily family, string[] outputs, MergeOptions? options) => new()
    {
        InputColumns = family.IsText ? [MergeColumns.InputIds, MergeColumns.AttentionMask] : [MergeColumns.PixelValues],
        OutputColumns = outputs,
        ShapeDictionary = family.IsText ? SavableWordPiece.ShapeDictionary(family.SequenceLength) : null,
        GpuDeviceId = options?.GpuDeviceId,
        FallbackToCpu = options?.FallbackToCpu ?? false,
    };

    private static string Column(string column, string task, bool single) => single ? column : MergeColumns.ForTask(column, task);

    /// <summary>Adds graph output <paramref name="name"/> = Identity(<paramref name="value"/>); returns its name.</summary>
    private static string AddIdentity(ModelProto model, string value, string name)
    {
        var source = model.Graph.Output.First(o => o.Name == value);
        var node = new NodeProto { OpType = "Identity", Name = name + "/Identity" };
        node.Input.Add(value);
        node.Output.Add(name);
        model.Graph.Node.Add(node);
        var output = source.Clone();
        output.Name = name;
        model.Graph.Output.Add(output);
        return name;
    }
}
