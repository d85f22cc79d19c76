using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// Reads the embedded manifest resources of a .NET assembly from its bytes, without loading or running it
/// (System.Reflection.Metadata). ECMA-335 §II.24.2.6: the CLI header's <c>Resources</c> directory holds the embedded
/// resources back to back, each a 4-byte little-endian length followed by that many bytes; a <c>ManifestResource</c>
/// row with no implementation (an embedded one) gives its name and its offset in that directory.
/// </summary>
internal static class ManifestResourceReader
{
    /// <summary>The names of the embedded resources of <paramref name="assemblyPath"/>.</summary>
    /// <exception cref="CheckpointFormatException">Not a .NET assembly.</exception>
    public static IReadOnlyList<string> Names(string assemblyPath)
    {
        using var pe = Open(assemblyPath, out var md);
        return md.ManifestResources.Select(h => md.GetManifestResource(h)).Where(r => r.Implementation.IsNil)
            .Select(r => md.GetString(r.Name)).ToList();
    }

    /// <summary>Copies the embedded resource <paramref name="name"/> of <paramref name="assemblyPath"/> to <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes copied.</returns>
    /// <exception cref="CheckpointFormatException">Not a .NET assembly, no such embedded resource, or a resource that runs past the directory.</exception>
    public static long Extract(string assemblyPath, string name, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var pe = Open(assemblyPath, out var md);
        foreach (var h in md.ManifestResources)
        {
            var r = md.GetManifestResource(h);
            if (!r.Implementation.IsNil || md.GetString(r.Name) != name) continue;
            var dir = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            if (!pe.PEHeaders.TryGetDirectoryOffset(dir, out int start))
                throw new CheckpointFormatException(assemblyPath, name, "has a resources directory outside the file's sections.");
            long at = start + r.Offset;
            using var file = File.OpenRead(assemblyPath);
            if (at + 4 > start + dir.Size || at + 4 > file.Length)
                throw new CheckpointFormatException(assemblyPath, name, $"resource offset {r.Offset} lies outside the {dir.Size}-byte resources directory.");
            file.Position = at;
            Span<byte> prefix = stackalloc byte[4];
            file.ReadExactly(prefix);
            long length = BitConverter.ToUInt32(prefix);
            if (at + 4 + length > start + dir.Size)
                throw new CheckpointFormatException(assemblyPath, name, $"resource of {length} bytes at offset {r.Offset} runs past the {dir.Size}-byte resources directory.");
            var buffer = new byte[1 << 20];
            long left = length;
            while (left > 0)
            {
                int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n <= 0) throw new CheckpointFormatException(assemblyPath, name, "ends inside the resource (truncated file).");
                destination.Write(buffer, 0, n);
                left -= n;
            }
            return length;
        }
        throw new CheckpointFormatException(assemblyPath, name, $"is not an embedded resource of this assembly; it has {string.Join(", ", Names(assemblyPath))}.");
    }

    private static PEReader Open(string path, out MetadataReader md)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: assembly not found.", path);
        var pe = new PEReader(File.OpenRead(path));
        try
        {
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is null)
                throw new CheckpointFormatException(path, null, "is not a .NET assembly (no CLI header or metadata).");
            md = pe.GetMetadataReader();
            return pe;
        }
        catch (BadImageFormatException e)
        {
            pe.Dispose();
            throw new CheckpointFormatException(path, null, $"is not a valid PE file: {e.Message}", e);
        }
        catch
        {
            pe.Dispose();
            throw;
        }
    }
}
