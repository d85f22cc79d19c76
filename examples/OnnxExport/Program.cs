// ONNX out: a TIES merge of the zoo's tasks written as one model.onnx (one shared encoder, a head per task), run in
// ONNX Runtime directly and in ML.NET through ApplyOnnxModel, each compared with the ML.NET components the merge fits.
//   dotnet run --project examples/OnnxExport [-- path/to/data/zoo/vision]
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLNetMerge;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ml = new MLContext(seed: 0);
using var family = ml.Merging().LoadZooFamily(zoo);
var test = ml.Merging().LoadZooData(zoo, "fashion", "test");
var merge = ml.Merging().Ties(family, keep: 0.2, scale: 1.0);

// A fresh folder of our own (SaveAsOnnx replaces only a folder an earlier export wrote, never someone else's).
string scratch = Directory.CreateTempSubdirectory("mlnetmerge-example-onnx-").FullName;
string dir = Path.Combine(scratch, "onnx");
var files = ml.Merging().SaveAsOnnx(merge, test, dir);
Console.WriteLine($"wrote {string.Join(", ", files)} ({new FileInfo(Path.Combine(dir, "model.onnx")).Length / 1024} KiB) to {dir}");

// Reference: the fitted ML.NET components' Score.fashion on the first 16 test rows.
var components = merge.Fit(test);
float[][] Scores(IDataView view, string column, int n) =>
    view.GetColumn<float[]>(column).Take(n).ToArray();
const int n = 16;
var expected = Scores(components.Transform(test), "Score.fashion", n);

// ONNX Runtime, batched.
var pixels = test.GetColumn<float[]>(MergeColumns.PixelValues).Take(n).SelectMany(r => r).ToArray();
using var session = new InferenceSession(Path.Combine(dir, "model.onnx"));
using var input = OrtValue.CreateTensorValueFromMemory(pixels, [n, 1, 28, 28]);
using var outputs = session.Run(new RunOptions(), [MergeColumns.PixelValues], [input], ["Score.fashion"]);
var ort = outputs[0].GetTensorDataAsSpan<float>().ToArray();
double ortDiff = Enumerable.Range(0, n * expected[0].Length).Max(i => Math.Abs(ort[i] - expected[i / expected[0].Length][i % expected[0].Length]));

// ML.NET's own ApplyOnnxModel on the file.
var applied = ml.Transforms.ApplyOnnxModel(["Score.fashion"], [MergeColumns.PixelValues], Path.Combine(dir, "model.onnx")).Fit(test);
var viaFile = Scores(applied.Transform(test), "Score.fashion", n);
double fileDiff = Enumerable.Range(0, n).Max(i => expected[i].Zip(viaFile[i], (a, b) => Math.Abs(a - b)).Max());

Console.WriteLine($"Score.fashion, {n} rows: ONNX Runtime max |diff| {ortDiff:E2}; ApplyOnnxModel max |diff| {fileDiff:E2} (vs the fitted components)");
applied.Dispose();
Directory.Delete(scratch, recursive: true); // the folder this program created
return ortDiff < 1e-5 && fileDiff < 1e-5 ? 0 : 1;

static string FindZoo(string name = "vision")
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", name);
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException($"data/zoo/{name} not found; pass the zoo folder as the first argument.");
}
