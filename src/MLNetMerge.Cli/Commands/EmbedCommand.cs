using System.CommandLine;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Errors;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge embed MODEL [--arch ARCH] [--config config.json] --input X.npy [--mask M.npy] [--head HEAD.safetensors] --output Y.npy</c>:
/// runs an encoder over a float32 NPY of images/features (or int64 token ids with an optional mask for text) and writes
/// the embeddings, or the head's logits, as float32 NPY (see <see cref="EmbedJob"/>).
/// </summary>
public static class EmbedCommand
{
    /// <summary>Builds the <c>embed</c> command.</summary>
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Checkpoint (.safetensors, sharded directory, .bin/.pt)." };
        var arch = new Option<string?>("--arch") { Description = "vit | clip_vision | openclip_visual | bert | roberta | mlp (default: config.json's model_type)." };
        var config = new Option<string?>("--config") { Description = "Hugging Face config.json (default: config.json beside the model)." };
        var input = new Option<string>("--input") { Description = "float32 NPY (N, C, H, W) images or (N, F) features; int64 NPY (N, T) token ids for text.", Required = true };
        var mask = new Option<string?>("--mask") { Description = "Text only: attention mask NPY (N, T), nonzero = real token." };
        var head = new Option<string?>("--head") { Description = "Linear head safetensors (weight (K, E), bias (K)): write logits instead of embeddings." };
        var output = new Option<string>("--output", "-o") { Description = "Output float32 NPY (N, E) or (N, K).", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Examples per forward pass.", DefaultValueFactory = _ => 32 };
        var pooling = new Option<string?>("--pooling") { Description = "Text only: pooler | cls | mean (default: the model's own, from its 1_Pooling/config.json, else pooler)." };
        var activation = new Option<string>("--activation") { Description = "OpenCLIP only: quick_gelu (OpenAI weights) or gelu (LAION).", DefaultValueFactory = _ => "quick_gelu" };
        var cmd = new Command("embed", "Run an encoder over an NPY batch and write embeddings (or head logits) as NPY.");
        cmd.Arguments.Add(model);
        foreach (var o in new Option[] { arch, config, input, mask, head, output, batch, pooling, activation }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var job = new EmbedJob
            {
                ModelPath = r.GetValue(model)!, Architecture = r.GetValue(arch), ConfigPath = r.GetValue(config), InputPath = r.GetValue(input)!,
                MaskPath = r.GetValue(mask), HeadPath = r.GetValue(head), OutputPath = r.GetValue(output)!, BatchSize = r.GetValue(batch),
                Pooling = r.GetValue(pooling) switch
                {
                    null => (TextPooling?)null,
                    "pooler" => TextPooling.Pooler,
                    "cls" => TextPooling.Cls,
                    "mean" => TextPooling.Mean,
                    var p => throw new MergeException(null, null, $"--pooling '{p}' is not pooler, cls or mean."),
                },
                OpenClipActivation = Activation.Parse(r.GetValue(activation)!),
            };
            var (count, width) = job.Run();
            Console.WriteLine($"{count} examples → {job.OutputPath} [{count}, {width}]");
            return 0;
        });
        return cmd;
    }
}
