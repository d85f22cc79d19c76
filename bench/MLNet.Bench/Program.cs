// Rows per second through ML.NET against the batched paths, same model, same run:
//   dotnet bench/MLNet.Bench/bin/Release/net10.0/MLNet.Bench.dll [vision|text|all] [ROWS] [BATCH]
// vision: the merged zoo ViT through ML.NET's OnnxTransformer (PredictionEngine, Transform), the engine's batched
// forward, and ONNX Runtime batched; text: the savable WordPiece steps against the project's tokenizer.
using MLNetMerge.Data;

string mode = args.Length > 0 ? args[0] : "all";
int rows = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4000;
int batch = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 500;
MachineInfo.Print();
string root = FindRoot();
if (mode is "vision" or "all") VisionThroughput.Run(Path.Combine(root, "data", "zoo", "vision"), rows, batch);
if (mode is "text" or "all")
{
    if (File.Exists(Path.Combine(WordNetReader.DefaultDirectory, "data.noun"))) TokenizationThroughput.Run(Path.Combine(root, "data", "zoo", "text"), 32);
    else Console.WriteLine("text: skipped (needs Debian's wordnet-base and fortunes: bash tools/ci-deps.sh test)");
}
Console.WriteLine($"load average after: {MachineInfo.Load()}");

static string FindRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "MLNetMerge.sln"))) return d.FullName;
    throw new DirectoryNotFoundException("MLNetMerge.sln not found above " + AppContext.BaseDirectory);
}
