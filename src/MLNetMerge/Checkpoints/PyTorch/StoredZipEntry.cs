namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>One entry of a zip archive stored without compression (method 0), as <c>torch.save</c> writes them.</summary>
/// <param name="Name">The entry's full name inside the archive, e.g. <c>archive/data/0</c>.</param>
/// <param name="DataOffset">Absolute byte offset of the entry's first data byte in the archive file.</param>
/// <param name="Length">Number of data bytes (compressed size = uncompressed size for stored entries).</param>
/// <param name="Crc32">The CRC-32 the central directory records for the data.</param>
internal sealed record StoredZipEntry(string Name, long DataOffset, long Length, uint Crc32);
