using MLNetMerge.Errors;
using SharpFuzz;

namespace MLNetMerge.Fuzz;

/// <summary>
/// The fuzz harness: <c>MLNetMerge.Fuzz TARGET</c> under afl-fuzz (SharpFuzz's fork server) runs
/// <see cref="FuzzTargets.Run"/> on every input and reports an exception other than <see cref="MergeException"/> as a
/// crash; <c>MLNetMerge.Fuzz TARGET --replay FILE…</c> runs files once and prints what each gave (tools/fuzz/README.md).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || !FuzzTargets.Extensions.TryGetValue(args[0], out var extension))
        {
            Console.Error.WriteLine($"usage: MLNetMerge.Fuzz TARGET [--replay FILE...]; targets: {string.Join(", ", FuzzTargets.Extensions.Keys)}");
            return 2;
        }
        string target = args[0];
        string dir = Path.Combine(Path.GetTempPath(), $"mlnetmerge-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "input" + extension);
        try
        {
            if (args.Length > 1 && args[1] == "--replay")
            {
                int bad = 0;
                foreach (var file in args.Skip(2))
                {
                    try { FuzzTargets.Run(target, File.ReadAllBytes(file), path); Console.WriteLine($"{file}: read"); }
                    catch (MergeException e) { Console.WriteLine($"{file}: refused: {e.Message}"); }
                    catch (Exception e) { bad++; Console.WriteLine($"{file}: CRASH {e.GetType().Name}: {e.Message}"); }
                }
                return bad == 0 ? 0 : 1;
            }
            Fuzzer.Run(stream =>
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                try { FuzzTargets.Run(target, buffer.ToArray(), path); }
                catch (MergeException) { } // the contract: typed errors are the expected way to refuse an input
            });
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
