using System.CommandLine;
using System.Globalization;
using MLNetMerge.Checkpoints;
using Spectre.Console;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge inspect FILE</c>: tensor table, dtypes, parameter count, metadata.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A .safetensors, index.json, .bin/.pt file or checkpoint directory." };
        var cmd = new Command("inspect", "List a checkpoint's tensors, dtypes, parameter count and metadata.");
        cmd.Arguments.Add(file);
        cmd.SetAction(r =>
        {
            using var reader = CheckpointReader.Open(r.GetValue(file)!);
            var table = new Table().AddColumns("tensor", "dtype", "shape", "elements");
            foreach (var t in reader.Tensors)
                table.AddRow(Markup.Escape(t.Name), t.DType.ToString(), Markup.Escape(t.ShapeText), t.ElementCount.ToString("N0", CultureInfo.InvariantCulture));
            Terminal.Write(table);
            var byType = reader.Tensors.GroupBy(t => t.DType).Select(g => $"{g.Key}: {g.Sum(t => t.ElementCount).ToString("N0", CultureInfo.InvariantCulture)}");
            Console.WriteLine($"{reader.Tensors.Count} tensors, {reader.Tensors.Sum(t => t.ElementCount).ToString("N0", CultureInfo.InvariantCulture)} parameters ({string.Join(", ", byType)})");
            foreach (var (k, v) in reader.Metadata.OrderBy(k => k.Key, StringComparer.Ordinal))
                Console.WriteLine($"metadata {k}: {(v.Length > 200 ? v[..200] + "…" : v)}");
            return 0;
        });
        return cmd;
    }
}
