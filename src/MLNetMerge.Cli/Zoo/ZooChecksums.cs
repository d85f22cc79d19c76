using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNetMerge.Cli.Zoo;

/// <summary>
/// A zoo's <c>checksums.json</c>: the SHA-256 of every file the zoo builder writes (everything in the zoo folder but this
/// file, the hand-written <c>README.md</c>, the <c>recipes/</c> and the study's <c>results/</c>), and what the build ran on (<see cref="BuildRecord"/>:
/// the instruction set, which decides the float32 bits of training). <c>zoo build</c> writes it; a fast test checks the
/// committed files against it, and a slow test rebuilds the zoo and compares when its instruction set matches the
/// recorded one (a rebuild elsewhere may differ in the last bits and is inconclusive). A file written from existing
/// files (<c>zoo checksums --write</c>) records no build.
/// </summary>
internal sealed record ZooChecksums(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("zoo")] string Zoo,
    [property: JsonPropertyName("built_with")] BuildRecord? BuiltWith,
    [property: JsonPropertyName("files")] SortedDictionary<string, string> Files)
{
    /// <summary>The file name.</summary>
    public const string FileName = "checksums.json";

    /// <summary>The format name.</summary>
    public const string FormatName = "mlnetmerge.zoo-checksums";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>What a build in this process runs on.</summary>
    public static BuildRecord ThisBuild(string zoo) =>
        new(MLNetMerge.Tensors.InstructionSet.Current, Environment.ProcessorCount, $"mlnetmerge zoo build {zoo}");

    /// <summary>The files of a zoo folder that the builder writes, relative with '/', in ordinal order.</summary>
    public static List<string> BuiltFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
            .Where(f => f != FileName && f != "README.md" && !f.StartsWith("recipes/", StringComparison.Ordinal) && !f.StartsWith("results/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Hashes the zoo's built files and writes <see cref="FileName"/> recording <paramref name="build"/> (null: not a build).</summary>
    public static ZooChecksums Write(string directory, BuildRecord? build)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in BuiltFiles(directory)) files[f] = Sha256(Path.Combine(directory, f));
        var sums = new ZooChecksums(FormatName, 1, Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/', '\\')), build, files);
        Data.AtomicFile.Write(Path.Combine(directory, FileName), s => JsonSerializer.Serialize(s, sums, Json));
        return sums;
    }

    /// <summary>Reads a zoo's <see cref="FileName"/>.</summary>
    /// <exception cref="CheckpointFormatException">Missing, not JSON, or another format.</exception>
    public static ZooChecksums Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new CheckpointFormatException(directory, null, $"has no {FileName}; `mlnetmerge zoo build` writes it.");
        ZooChecksums? sums;
        try { sums = JsonSerializer.Deserialize<ZooChecksums>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new CheckpointFormatException(path, null, "is not valid JSON: " + e.Message, e); }
        if (sums is null || sums.Format != FormatName || sums.Files is null)
            throw new CheckpointFormatException(path, null, $"is not a '{FormatName}' file.");
        return sums;
    }

    /// <summary>How the files of <paramref name="directory"/> differ from these checksums: one line per missing, extra or
    /// changed file (empty when they match).</summary>
    public IReadOnlyList<string> Differences(string directory)
    {
        var lines = new List<string>();
        var present = BuiltFiles(directory);
        foreach (var f in present.Where(f => !Files.ContainsKey(f))) lines.Add($"{f}: not in {FileName}");
        foreach (var (f, sha) in Files)
        {
            string path = Path.Combine(directory, f);
            if (!File.Exists(path)) lines.Add($"{f}: missing");
            else if (Sha256(path) is var actual && actual != sha) lines.Add($"{f}: SHA-256 {actual}, recorded {sha}");
        }
        return lines;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

/// <summary>What a zoo build ran on.</summary>
/// <param name="InstructionSet">The instruction set (<see cref="MLNetMerge.Tensors.InstructionSet.Current"/>).</param>
/// <param name="Threads">Logical processors the build saw (recorded for diagnosis).</param>
/// <param name="Command">The build command.</param>
internal sealed record BuildRecord(
    [property: JsonPropertyName("instruction_set")] string InstructionSet,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("command")] string Command);
