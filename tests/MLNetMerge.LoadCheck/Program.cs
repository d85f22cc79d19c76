// Fresh-process half of the Save/Load check:
//   dotnet MLNetMerge.LoadCheck.dll MODEL.zip ROWS.json OUT.json
// loads MODEL.zip in a new MLContext (after ml.Merging().RegisterAssembly(), which makes the argmax and
// tokenization CustomMapping steps loadable), scores the rows of ROWS.json (an array of InputRow) with a PredictionEngine and with
// Transform, and writes both to OUT.json. Exit code 2 with one line on bad arguments.
using System.Text.Json;
using Microsoft.ML;
using MLNetMerge;
using MLNetMerge.LoadCheck;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: MLNetMerge.LoadCheck MODEL.zip ROWS.json OUT.json");
    return 2;
}
var ml = new MLContext(seed: 0);
ml.Merging().RegisterAssembly();
using var zip = File.OpenRead(args[0]);
var model = ml.Model.Load(zip, out _);
var rows = JsonSerializer.Deserialize<List<InputRow>>(File.ReadAllText(args[1]))
    ?? throw new InvalidDataException($"{args[1]}: expected a JSON array of rows.");
File.WriteAllText(args[2], ModelScoring.Score(ml, model, rows));
(model as IDisposable)?.Dispose();
Console.WriteLine($"scored {rows.Count} rows with {args[0]}");
return 0;
