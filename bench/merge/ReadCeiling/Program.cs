using System.Globalization;
using MLNetMerge.Bench.ReadCeiling;

// Physical limits for the merge-throughput benchmark (bench/merge/run.sh):
//   dotnet ReadCeiling.dll [--triad-mb 400] [--threads 2] FILE...
// prints the file-read ceiling over FILE... and the STREAM-triad memory bandwidth, then one
// machine-readable line: RESULT read_gbps=<x> read_bytes=<n> triad_gbps=<y>.

int threads = 2;
long triadMegabytes = 400;
var files = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--triad-mb": triadMegabytes = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: files.Add(args[i]); break;
    }
}
if (files.Count == 0)
{
    Console.Error.WriteLine("usage: ReadCeiling [--triad-mb 400] [--threads 2] FILE...");
    return 2;
}

var (readBytes, readSeconds) = FileReadCeiling.Measure(files, passes: 3);
double readGbps = readBytes / readSeconds / 1e9;
Console.WriteLine($"file read ceiling: {files.Count} files, {readBytes / 1e6:F0} MB in {readSeconds:F3} s (best of 3, warm, 64 MiB buffer, 1 thread) = {readGbps:F2} GB/s");

long elements = triadMegabytes * 1_000_000 / sizeof(float);
var (triadBytes, triadSeconds) = TriadBandwidth.Measure(elements, threads, runs: 5);
double triadGbps = triadBytes / triadSeconds / 1e9;
Console.WriteLine($"memory bandwidth: triad over 3 x {triadMegabytes} MB float arrays, {threads} threads, best of 5: {triadSeconds:F3} s = {triadGbps:F2} GB/s (3 x 4 bytes per element)");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT read_gbps={readGbps:F3} read_bytes={readBytes} triad_gbps={triadGbps:F3}"));
return 0;
