using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;

namespace MLNetMerge.Cli.Commands;

/// <summary>Single output files of the commands (<c>embed -o</c>, NPY arrays): written only when new, or with
/// <c>--force</c> over an array an earlier run wrote — never over a folder, a link, another file (a checkpoint, a config,
/// a dataset's NPY array: anything the command did not write) or one of the command's own inputs. What was written is
/// known from a ledger beside it, <c>.mlnetmerge-outputs.json</c> (format <c>mlnetmerge.outputs</c>: each file's
/// SHA-256 as written); a file that changed since, or that no ledger lists, is not replaced.</summary>
internal static class OutputFiles
{
    /// <summary>Refuses <paramref name="path"/> when it is a folder, a link, one of <paramref name="inputs"/>, an existing
    /// file without <paramref name="force"/>, or with it an existing file that is not an NPY array.</summary>
    /// <exception cref="OutputExistsException">The file exists and <paramref name="force"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The path is a folder, a link, an input, or not an NPY array.</exception>
    public static void CheckNewNpy(string path, bool force, IEnumerable<string?> inputs)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UnsafeOverwriteException(full, "is a folder; the output names the file to write.");
        foreach (var input in inputs)
            if (input is not null && (OutputGuard.IsAtOrUnder(Path.GetFullPath(input), full) || OutputGuard.IsAtOrUnder(OutputGuard.RealPath(input), OutputGuard.RealPath(full))))
                throw new UnsafeOverwriteException(full, $"is an input of this command ({input}); choose another output file.");
        OutputGuard.CheckCanCreate(full);
        if (File.Exists(full)) CheckExisting(full, force, late: false);
    }

    /// <summary>The last check before an array replaces <paramref name="existing"/>: allowed only with
    /// <paramref name="force"/> and when the file is still the one an earlier run recorded.</summary>
    /// <exception cref="OutputExistsException">The file exists (it appeared while the command ran) and force is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The file was not written by an earlier run, or changed since.</exception>
    public static void CheckReplace(string existing, bool force) => CheckExisting(Path.GetFullPath(existing), force, late: true);

    /// <summary>The one rule for an existing file at the output: replaced only with <paramref name="force"/>, never
    /// through a link, and only when the ledger lists it as it is now; <paramref name="late"/>: found at the rename (it
    /// appeared or changed while the command ran) rather than before the work.</summary>
    private static void CheckExisting(string full, bool force, bool late)
    {
        if (!force) throw new OutputExistsException(full);
        bool link = new FileInfo(full).LinkTarget is not null;
        if (!link && Recorded(full)) return;
        if (late)
            throw new UnsafeOverwriteException(full, $"appeared or changed while the command ran and is not an earlier run's output (no matching entry in {LedgerName}); it was left as it is.");
        if (link)
            throw new UnsafeOverwriteException(full, $"is a link (to {new FileInfo(full).LinkTarget}); --force replaces only an earlier .npy output: choose another output file.");
        throw new UnsafeOverwriteException(full, $"was not written by an earlier run (no matching entry in {LedgerName} beside it); --force replaces only the command's own earlier outputs, never another file: choose another output file.");
    }

    /// <summary>The ledger of single-file outputs, one per folder.</summary>
    internal const string LedgerName = ".mlnetmerge-outputs.json";

    private const string LedgerFormat = "mlnetmerge.outputs";

    /// <summary>Records <paramref name="path"/> (just written) in its folder's ledger with its SHA-256; runs writing into one
    /// folder at once take turns (an exclusive <c>.mlnetmerge-outputs.lock</c> beside the ledger).</summary>
    public static void Record(string path) => Update(path, Sha256(Path.GetFullPath(path)), keepPrevious: false);

    /// <summary>Adds, before <paramref name="temp"/> is renamed to <paramref name="path"/>, its SHA-256 beside the one
    /// recorded now: a process killed between the rename and <see cref="Record"/> leaves a ledger that knows either
    /// content, so a later <c>--force</c> does not refuse the command's own file.</summary>
    public static void RecordPending(string path, string temp) => Update(path, Sha256(temp), keepPrevious: true);

    private static void Update(string path, string hash, bool keepPrevious)
    {
        string full = Path.GetFullPath(path);
        string ledger = Path.Combine(Path.GetDirectoryName(full)!, LedgerName);
        using var turn = Exclusive(Path.Combine(Path.GetDirectoryName(full)!, ".mlnetmerge-outputs.lock"));
        var files = ReadLedger(ledger) ?? [];
        string name = Path.GetFileName(full);
        files[name] = keepPrevious && files.TryGetValue(name, out var previous) ? [.. previous.Append(hash).Distinct()] : [hash];
        JsonNode Entry(string[] hashes) => hashes.Length == 1 ? JsonValue.Create(hashes[0]) : new JsonArray([.. hashes.Select(h => (JsonNode?)JsonValue.Create(h))]);
        var json = new JsonObject { ["format"] = LedgerFormat, ["files"] = new JsonObject(files.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Entry(kv.Value)))) };
        AtomicFile.Write(ledger, s => s.Write(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n")));
    }

    /// <summary>Opens <paramref name="lockFile"/> exclusively, waiting up to 30 s for another run that holds it.</summary>
    private static FileStream Exclusive(string lockFile)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try { return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline) { Thread.Sleep(20); }
        }
    }

    /// <summary>Whether the ledger beside <paramref name="full"/> lists it with its present SHA-256.</summary>
    private static bool Recorded(string full)
    {
        var files = ReadLedger(Path.Combine(Path.GetDirectoryName(full)!, LedgerName));
        return files is not null && files.TryGetValue(Path.GetFileName(full), out var hashes) && hashes.Contains(Sha256(full));
    }

    /// <summary>The ledger's entries, or null when there is none or it is not one (unreadable, another format).</summary>
    /// <remarks>An entry is one SHA-256, or while a replacement is being renamed into place, the list of the two.</remarks>
    private static Dictionary<string, string[]>? ReadLedger(string ledger)
    {
        if (!File.Exists(ledger) || new FileInfo(ledger).LinkTarget is not null) return null;
        try
        {
            var root = JsonNode.Parse(File.ReadAllBytes(ledger)) as JsonObject;
            if (root?["format"]?.GetValue<string>() != LedgerFormat || root["files"] is not JsonObject files) return null;
            return files.Where(kv => kv.Value is JsonValue or JsonArray).ToDictionary(kv => kv.Key, kv => kv.Value is JsonArray list
                ? [.. list.Select(h => h!.GetValue<string>())] : new[] { kv.Value!.GetValue<string>() }, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException) { return null; }
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
