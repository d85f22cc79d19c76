using System.Globalization;
using System.IO.Compression;

namespace MLNetMerge.Data;

/// <summary>
/// Reads the CSV files scikit-learn bundles in <c>sklearn/datasets/data/</c> (plain or <c>.gz</c>): one example per row,
/// the features first and the integer class label last. Two layouts exist:
/// <list type="bullet">
/// <item>with a header row <c>n_samples,n_features,class_0,class_1,…</c> (iris, wine, breast_cancer), detected because
/// it has a different number of fields from the data rows; the class names come from it;</item>
/// <item>without a header (digits): the class names are the label values <c>"0"</c>, <c>"1"</c>, ….</item>
/// </list>
/// </summary>
internal static class SklearnCsv
{
    /// <summary>Reads a bundled dataset into a <see cref="TaskDataset"/> with features of shape (N, D).</summary>
    /// <param name="path">The CSV file (gzipped when its name ends in <c>.gz</c>).</param>
    /// <param name="name">Dataset name; the file name without extensions when null.</param>
    /// <exception cref="CheckpointFormatException">A row has a different field count, a value does not parse, a label is not a
    /// non-negative integer, or the header's sample/feature counts disagree with the rows; the message names file and line.</exception>
    public static TaskDataset Read(string path, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using Stream file = File.OpenRead(path);
        using Stream input = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(input);
        var lines = new List<string>();
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            if (line.Trim().Length > 0) lines.Add(line);
        if (lines.Count == 0) throw new CheckpointFormatException(path, null, "is empty; expected CSV rows of features followed by a label.");
        name ??= Path.GetFileName(path).Split('.')[0];

        string[]? header = null;
        int first = 0;
        if (lines.Count > 1 && lines[0].Split(',').Length != lines[1].Split(',').Length)
        {
            header = lines[0].Split(',').Select(s => s.Trim()).ToArray();
            first = 1;
        }
        int fields = lines[first].Split(',').Length;
        if (fields < 2) throw new CheckpointFormatException(path, null, $"line {first + 1} has {fields} field; expected features and a label.");
        int d = fields - 1, n = lines.Count - first;
        var features = new float[n * d];                                   // (N, D)
        var labels = new int[n];                                           // (N)
        for (int i = 0; i < n; i++)
        {
            var cells = lines[first + i].Split(',');
            if (cells.Length != fields) throw new CheckpointFormatException(path, null, $"line {first + i + 1} has {cells.Length} fields; expected {fields}.");
            for (int j = 0; j < d; j++)
            {
                if (!float.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out features[i * d + j]))
                    throw new CheckpointFormatException(path, null, $"line {first + i + 1}, field {j + 1} is '{cells[j]}'; expected a number.");
            }
            if (!double.TryParse(cells[d], NumberStyles.Float, CultureInfo.InvariantCulture, out double label) || label < 0 || label != Math.Floor(label) || label > int.MaxValue)
                throw new CheckpointFormatException(path, null, $"line {first + i + 1} ends with label '{cells[d]}'; expected a non-negative integer class.");
            labels[i] = (int)label;
        }
        int classCount = labels.Max() + 1;
        IReadOnlyList<string> classNames;
        if (header is not null)
        {
            if (!int.TryParse(header[0], CultureInfo.InvariantCulture, out int hn) || !int.TryParse(header[1], CultureInfo.InvariantCulture, out int hd) || hn != n || hd != d)
                throw new CheckpointFormatException(path, null, $"header says '{header[0]},{header[1]}' samples,features; the file has {n} rows of {d} features.");
            classNames = header.Skip(2).ToArray();
            if (classNames.Count < classCount)
                throw new CheckpointFormatException(path, null, $"header names {classNames.Count} classes but label {classCount - 1} occurs.");
        }
        else
        {
            classNames = Enumerable.Range(0, classCount).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        return new TaskDataset(name, features, [d], labels, classNames);
    }
}
