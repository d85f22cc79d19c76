using Google.Protobuf;
using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.MLNet;

/// <summary>
/// Adds ML.NET's <c>Score</c> to an exported model: a graph output <c>Softmax(logits, axis = −1)</c> with the logits'
/// shape, beside the logits. ML.NET's Evaluate and its users read <c>Score</c> as probabilities of known width, which
/// only the graph can give (a CustomMapping output has no fixed width per task).
/// </summary>
internal static class OnnxScoreOutput
{
    /// <summary>Returns the model with output <paramref name="scoreOutput"/> = softmax of output <paramref name="logitsOutput"/>.</summary>
    /// <exception cref="ArgumentException">No output <paramref name="logitsOutput"/>, or one named <paramref name="scoreOutput"/> already.</exception>
    public static byte[] AppendSoftmax(byte[] onnx, string logitsOutput = "logits", string scoreOutput = "Score")
    {
        ArgumentNullException.ThrowIfNull(onnx);
        OnnxSignature.Read(onnx); // one-line error for bytes that are not a model
        var model = ModelProto.Parser.ParseFrom(onnx);
        AppendSoftmax(model, logitsOutput, scoreOutput);
        return model.ToByteArray();
    }

    /// <summary>Adds output <paramref name="scoreOutput"/> = softmax of output <paramref name="logitsOutput"/> to <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">No output <paramref name="logitsOutput"/>, or one named <paramref name="scoreOutput"/> already.</exception>
    public static void AppendSoftmax(ModelProto model, string logitsOutput, string scoreOutput)
    {
        ArgumentNullException.ThrowIfNull(model);
        var logits = model.Graph.Output.FirstOrDefault(o => o.Name == logitsOutput)
            ?? throw new ArgumentException($"the model has no output '{logitsOutput}'; its outputs are {string.Join(", ", model.Graph.Output.Select(o => o.Name))}.", nameof(logitsOutput));
        if (model.Graph.Output.Any(o => o.Name == scoreOutput) || model.Graph.Node.Any(n => n.Output.Contains(scoreOutput)))
            throw new ArgumentException($"the model already has a value named '{scoreOutput}'.", nameof(scoreOutput));
        var node = new NodeProto { OpType = "Softmax", Name = scoreOutput + "/Softmax" };
        node.Input.Add(logitsOutput);
        node.Output.Add(scoreOutput);
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
        model.Graph.Node.Add(node);
        var score = logits.Clone();
        score.Name = scoreOutput;
        model.Graph.Output.Add(score);
    }
}
