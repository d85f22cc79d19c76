using System.CommandLine;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx.Import;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge import MODEL.onnx -o DIR [--force]</c>: a torch-exported BERT, ViT or CLIP vision ONNX model as
/// Hugging Face <c>model.safetensors</c> + <c>config.json</c> (+ the tokenizer files found beside it).</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A torch-exported ONNX encoder (BERT, ViT or CLIP vision), or a per-task ONNX file mlnetmerge export wrote." };
        var output = new Option<string>("--output", "-o") { Description = "Output directory.", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace an existing output directory." };
        var cmd = new Command("import", "Trace a torch-exported ONNX encoder back to Hugging Face names and layouts; write model.safetensors, config.json, onnx_import.json and the tokenizer files beside it.");
        cmd.Arguments.Add(model);
        cmd.Options.Add(output);
        cmd.Options.Add(force);
        cmd.SetAction(r =>
        {
            string dir = r.GetValue(output)!, source = r.GetValue(model)!;
            // Built aside and renamed into place; --force replaces only an earlier import (or other MLNetMerge output)
            // that does not hold the source model or the tokenizer files read beside it.
            using var atomic = AtomicDirectory.Begin(dir, r.GetValue(force), [source], Console.WriteLine);
            var imported = TorchEncoderImporter.Import(source);
            imported.Save(atomic.TempPath);
            atomic.Commit();
            int transposed = imported.Map.Count(m => m.Transposed);
            Console.WriteLine($"{imported.ArchitectureName}: {imported.Map.Count} tensors ({transposed} Linear weights transposed from [in, out]), "
                + $"{imported.Tensors.Tensors.Where(t => t.DType == Tensors.DType.F32).Sum(t => t.ElementCount):N0} parameters → {dir}");
            // The files of the model folder, its sub-folders' (1_Pooling/) included; the tool's own record is not one of them.
            foreach (var f in Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith(".mlnetmerge-", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                Console.WriteLine($"  {f}");
            return 0;
        });
        return cmd;
    }
}
