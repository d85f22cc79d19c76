using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// The hand-written safetensors header: the same bytes a relaxed-escaping <see cref="Utf8JsonWriter"/> writes for names
/// and metadata with quotes, backslashes, control characters and non-ASCII text, and it parses back to the same values.
/// </summary>
[TestClass]
public sealed class SafetensorsHeaderEncodeTests
{
    private static readonly Dictionary<string, string> Metadata = new()
    {
        ["format"] = "pt",
        ["mlnetmerge.recipe"] = "method: ties\nparameters: { keep: 0.2, scale: 1 }   # λ·τ, θ₀\r\n\ttab \"quoted\" back\\slash \u0001\u001f\b\f end",
        ["ünïcode key"] = "日本語 🙂 del\u007f",
    };

    private static readonly (string, DType, int[], long, long)[] Entries =
    [
        ("vision_model.embeddings.class_embedding", DType.F32, [768], 0, 3072),
        ("odd \"name\"\\with\ttab", DType.BF16, [2, 3], 3072, 3084),
        ("scalar", DType.F16, [], 3084, 3086),
        ("ids", DType.I64, [1, 50], 3086, 3486),
    ];

    private static byte[] ReferenceJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            foreach (var kv in Metadata.OrderBy(k => k.Key, StringComparer.Ordinal)) w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            foreach (var (name, dtype, shape, begin, end) in Entries)
            {
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype.ToSafetensorsName());
                w.WriteStartArray("shape");
                foreach (int d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(begin);
                w.WriteNumberValue(end);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    [TestMethod]
    public void SameBytesAsARelaxedJsonWriter_PaddedWithSpaces()
    {
        byte[] header = SafetensorsHeader.Encode(Entries, Metadata);
        byte[] json = ReferenceJson();
        ulong n = BitConverter.ToUInt64(header, 0);
        Assert.AreEqual(0UL, n % 8);
        Assert.AreEqual((long)n + 8, header.Length);
        CollectionAssert.AreEqual(json, header[8..(8 + json.Length)]);
        Assert.IsTrue(header[(8 + json.Length)..].All(b => b == (byte)' '));
    }

    [TestMethod]
    public void ParsesBackToTheSameNamesShapesAndMetadata()
    {
        byte[] header = SafetensorsHeader.Encode(Entries, Metadata);
        var (tensors, metadata) = SafetensorsHeader.Parse("mem.safetensors", header.AsSpan(0, 8), n => header[8..(8 + n)], header.Length + 3486);
        CollectionAssert.AreEqual(Entries.Select(e => e.Item1).ToArray(), tensors.Select(t => t.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 2, 3 }, tensors[1].Shape);
        Assert.AreEqual(0, tensors[2].Shape.Length);
        foreach (var (k, v) in Metadata) Assert.AreEqual(v, metadata[k], k);
    }

    [TestMethod]
    public void UnpairedSurrogateIsRefused() =>
        Assert.ThrowsExactly<ArgumentException>(() => SafetensorsHeader.Encode(Entries, new Dictionary<string, string> { ["bad"] = "x\ud800y" }));
}
