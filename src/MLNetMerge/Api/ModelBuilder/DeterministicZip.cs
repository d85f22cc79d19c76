using System.IO.Compression;

namespace MLNetMerge;

/// <summary>
/// Makes an ML.NET model zip byte-identical across runs. <c>mlContext.Model.Save</c> writes the same entries with the
/// same contents in the same order every time, but each entry's last-write time is the clock at the moment of writing
/// (<c>ZipArchive.CreateEntry</c>), so two saves of one model differ in those timestamps (DOS time, 2-second steps) and
/// the layout of the binary data views some steps keep in the zip (<c>MapValue</c>'s table, saved with blocks in the
/// order its compression threads finished; see <see cref="IdvBlockOrder"/>). This rewrites the archive entry by entry,
/// in order, every timestamp set to <see cref="Timestamp"/> and every <c>.idv</c> entry's blocks put in canonical
/// order (the same rows, columns and metadata); deflate of the same bytes by the same runtime is deterministic.
/// </summary>
internal static class DeterministicZip
{
    /// <summary>The fixed last-write time of every entry (the earliest a zip's DOS time can hold).</summary>
    public static readonly DateTimeOffset Timestamp = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The archive <paramref name="zip"/> with every entry's timestamp set to <see cref="Timestamp"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a zip archive.</exception>
    public static byte[] Normalise(byte[] zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        using var source = new ZipArchive(new MemoryStream(zip, writable: false), ZipArchiveMode.Read);
        using var result = new MemoryStream();
        using (var target = new ZipArchive(result, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.Optimal);
                copy.LastWriteTime = Timestamp;
                using var from = entry.Open();
                using var content = new MemoryStream();
                from.CopyTo(content);
                byte[] bytes = entry.FullName.EndsWith(".idv", StringComparison.OrdinalIgnoreCase) ? IdvBlockOrder.Canonicalise(content.ToArray()) : content.ToArray();
                using var to = copy.Open();
                to.Write(bytes);
            }
        }
        return result.ToArray();
    }
}
