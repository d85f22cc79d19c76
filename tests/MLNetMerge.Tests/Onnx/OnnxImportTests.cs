using Google.Protobuf;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Checkpoints.Onnx.Import;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tests.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNetMerge.Tests.Onnx;

/// <summary>
/// The importer on torch.onnx.export'ed copies (tools/make_import_fixtures.py, torch 1.13, opset 13) of the engine's own
/// HF-named fixtures: every tensor comes back bit-identical with its Hugging Face name and [out, in] layout, the
/// configuration read from the graph equals the fixture's config.json, the imported BERT runs like ONNX Runtime runs the
/// graph, and graphs edited to make a square weight's orientation unprovable, or the hyper-parameters inconsistent,
/// are refused with a typed error naming the tensor.
/// </summary>
[TestClass]
public sealed class OnnxImportTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "import", name + ".onnx");

    [TestMethod]
    [DataRow("bert")]
    [DataRow("vit")]
    [DataRow("clip_vision")]
    public void TorchExport_ImportsBitIdenticalToTheStateDict(string name)
    {
        var imported = TorchEncoderImporter.Import(Fixture(name));
        using var reference = EngineReference.Weights(name);
        foreach (var t in reference.Tensors)
        {
            Assert.IsTrue(imported.Tensors.TryGetTensor(t.Name, out var got), $"{t.Name} missing from the import");
            CollectionAssert.AreEqual(t.Shape, got.Shape, t.Name);
            Assert.AreEqual(t.DType, got.DType, t.Name);
            var a = new byte[t.ByteLength]; var b = new byte[got.ByteLength];
            reference.ReadRaw(t, a); imported.Tensors.ReadRaw(got, b);
            CollectionAssert.AreEqual(a, b, $"{t.Name} differs");
        }
        Assert.AreEqual(reference.Tensors.Count, imported.Tensors.Tensors.Count, "the import holds tensors the state dict does not");
        // 2 layers × (q, k, v, o, fc1, fc2) anonymous [in, out] weights, plus CLIP's bias-free projection.
        Assert.AreEqual(name == "clip_vision" ? 13 : 12, imported.Map.Count(m => m.Transposed));
        // The configuration read from the graph is the fixture's config.json, field for field as the engine parses both.
        var (_, expected) = ModelConfigFile.Load(Path.Combine(EngineReference.Dir, name + ".config.json"));
        Assert.AreEqual(expected, ParsedConfig(imported));
        Assert.AreEqual(name != "clip_vision", imported.Config.Pooler);
    }

    /// <summary>The imported config.json as the engine reads it.</summary>
    internal static object ParsedConfig(ImportedEncoder imported)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("onnx-import-config-").FullName, "config.json");
        File.WriteAllText(path, imported.ConfigJson());
        return ModelConfigFile.Load(path).Config;
    }

    [TestMethod]
    public void ImportedBert_RunsLikeOnnxRuntimeRunsTheGraph()
    {
        var imported = TorchEncoderImporter.Import(Fixture("bert"));
        var model = TextEncoder.Load((TextEncoderConfig)ParsedConfig(imported), imported.Tensors);
        const int B = 2, T = 7;
        int[] ids = [2, 5, 9, 11, 3, 0, 0, 2, 17, 4, 28, 6, 8, 3];
        bool[] mask = ids.Select(id => id != 0).ToArray();                    // the first sequence ends in 2 padding tokens
        model.Forward(ids, mask, default, B, T);
        using var session = new InferenceSession(Fixture("bert"));
        long[] Long(IEnumerable<int> v) => v.Select(x => (long)x).ToArray();
        var feeds = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(Long(ids), [B, T])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask.Select(m => m ? 1L : 0L).ToArray(), [B, T])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[B * T], [B, T])),
        };
        using var results = session.Run(feeds);
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
        var pooled = results.First(r => r.Name == "pooler_output").AsTensor<float>().ToArray();
        // Padded positions differ by design (BERT's additive mask is -10000, the engine's excludes them); compare real tokens.
        double worst = 0;
        for (int i = 0; i < B * T; i++)
            if (mask[i]) worst = Math.Max(worst, EngineReference.MaxAbsDiff(model.Hidden.Slice(i * 24, 24), hidden.AsSpan(i * 24, 24)));
        Assert.IsTrue(worst <= 1e-5, $"max |Δhidden| on real tokens {worst:E2}");
        Assert.IsTrue(EngineReference.MaxAbsDiff(model.Embedding, pooled) <= 1e-5, "pooler output differs");
    }

    private static (ModelProto Model, string Path) Edited(string name, Action<ModelProto> edit)
    {
        var model = OnnxModelFile.Load(Fixture(name));
        edit(model);
        string path = Path.Combine(Directory.CreateTempSubdirectory("onnx-import-").FullName, name + ".onnx");
        OnnxModelFile.Save(model, path);
        return (model, path);
    }

    /// <summary>The MatMul that computes layer 0's query (its output goes into the Add with the query bias).</summary>
    private static NodeProto QueryMatMul(ModelProto model)
    {
        var add = model.Graph.Node.First(n => n.OpType == "Add" && n.Input.Contains("encoder.layer.0.attention.self.query.bias"));
        string product = add.Input.First(i => i != "encoder.layer.0.attention.self.query.bias");
        return model.Graph.Node.First(n => n.Output.Contains(product));
    }

    [TestMethod]
    public void SquareWeight_LeftOperandOfMatMul_IsRefusedAsAmbiguous()
    {
        string weight = "";
        var (_, path) = Edited("bert", m =>
        {
            var mm = QueryMatMul(m);
            weight = mm.Input[1];
            (mm.Input[0], mm.Input[1]) = (mm.Input[1], mm.Input[0]);                 // W·x instead of x·W: same shapes, [24, 24]
        });
        var e = Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(path));
        Assert.AreEqual(weight, e.Tensor);
        StringAssert.Contains(e.Message, "ambiguous");
    }

    [TestMethod]
    public void SquareWeight_StoredOutByIn_BehindATranspose_ImportsUntransposed()
    {
        // Store layer 0's query weight as [out, in] (Hugging Face's own layout) and put a Transpose node before the MatMul:
        // the shapes are the same as before, only the graph tells the two apart; both must import to the same tensor.
        var (_, path) = Edited("bert", m =>
        {
            var mm = QueryMatMul(m);
            var init = m.Graph.Initializer.First(t => t.Name == mm.Input[1]);
            var values = new float[24 * 24];
            Buffer.BlockCopy(init.RawData.ToByteArray(), 0, values, 0, values.Length * 4);
            var flipped = new float[values.Length];
            for (int r = 0; r < 24; r++) for (int c = 0; c < 24; c++) flipped[c * 24 + r] = values[r * 24 + c];
            var bytes = new byte[flipped.Length * 4];
            Buffer.BlockCopy(flipped, 0, bytes, 0, bytes.Length);
            init.RawData = ByteString.CopyFrom(bytes);
            var transpose = new NodeProto { OpType = "Transpose", Name = "query_t" };
            transpose.Input.Add(init.Name);
            transpose.Output.Add(init.Name + "_t");
            transpose.Attribute.Add(new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 0 } });
            mm.Input[1] = init.Name + "_t";
            m.Graph.Node.Insert(m.Graph.Node.IndexOf(mm), transpose);
        });
        var edited = TorchEncoderImporter.Import(path);
        var original = TorchEncoderImporter.Import(Fixture("bert"));
        const string q = "encoder.layer.0.attention.self.query.weight";
        Assert.IsFalse(edited.Map.Single(m => m.Name == q).Transposed);
        Assert.IsTrue(original.Map.Single(m => m.Name == q).Transposed);
        CollectionAssert.AreEqual(Floats(original.Tensors, q), Floats(edited.Tensors, q));
    }

    private static float[] Floats(ICheckpointReader r, string name)
    {
        r.TryGetTensor(name, out var t);
        var v = new float[t.ElementCount];
        r.ReadFloat32(t, v);
        return v;
    }

    [TestMethod]
    public void OperatorsAndOpsetsTheImporterDoesNotTrace_AreRefused()
    {
        // Each edit left the weights traceable, and the import used to succeed, computing something else than the graph.
        void Refused(Action<ModelProto> edit, string expected)
        {
            var (_, path) = Edited("vit", edit);
            StringAssert.Contains(Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(path)).Message, expected);
        }
        Refused(m => m.OpsetImport[0].Version = 99, "declares opset 99; the importer reads opsets 9 to 21");
        Refused(m => m.Graph.Node.First(n => n.OpType == "Softmax").OpType = "LogSoftmax", "is LogSoftmax, an operator the importer does not trace");
        Refused(m =>
        {
            // A Relu outside the MLP (after the patch embedding) of a GELU model.
            var conv = m.Graph.Node.First(n => n.OpType == "Conv");
            string raw = conv.Output[0] + "_raw";
            var relu = new NodeProto { Name = "stray_relu", OpType = "Relu", Input = { raw }, Output = { conv.Output[0] } };
            conv.Output[0] = raw;
            m.Graph.Node.Insert(m.Graph.Node.IndexOf(conv) + 1, relu);
        }, "node 'stray_relu' is Relu, an operator the importer does not trace there");
        Refused(m =>
        {
            var conv = m.Graph.Node.First(n => n.OpType == "Conv");
            string raw = conv.Output[0] + "_raw";
            var scale = new NodeProto { Name = "my_scale", OpType = "MyScale", Domain = "com.example", Input = { raw }, Output = { conv.Output[0] } };
            conv.Output[0] = raw;
            m.Graph.Node.Insert(m.Graph.Node.IndexOf(conv) + 1, scale);
        }, "node 'my_scale' is com.example:MyScale");
        Refused(m =>
        {
            var t = m.Graph.Initializer.First(i => i.DataType == (int)TensorProto.Types.DataType.Float);
            m.Graph.Initializer.Add(new TensorProto { Name = "rescalers", DataType = t.DataType, Dims = { 1 }, RawData = ByteString.CopyFrom(new byte[4]) });
            m.Graph.Initializer.Add(new TensorProto { Name = "masks.a." + t.Name, DataType = (int)TensorProto.Types.DataType.Uint8, Dims = { 1 }, RawData = ByteString.CopyFrom(new byte[1]) });
        }, "is an EMR single-file export");
    }

    [TestMethod]
    public void GraphsOutOfOrder_AttributesOfAnotherType_AndNonFiniteWeights_AreRefused()
    {
        // Each was imported without a word (found by a structure-aware fuzz trial).
        var (_, dangling) = Edited("vit", m => m.Graph.Node.Skip(2).First(n => n.Input.Count > 0).Input[0] = "does_not_exist");
        StringAssert.Contains(Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(dangling)).Message,
            "reads 'does_not_exist', which no earlier node, initializer or graph input makes");
        var (_, swapped) = Edited("vit", m =>
        {
            var last = m.Graph.Node[^1];
            m.Graph.Node.RemoveAt(m.Graph.Node.Count - 1);
            m.Graph.Node.Insert(0, last);
        });
        StringAssert.Contains(Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(swapped)).Message, "node 0 (");
        var (_, typed) = Edited("vit", m =>
        {
            var conv = m.Graph.Node.First(n => n.OpType == "Conv");
            var kernel = conv.Attribute.First(a => a.Name == "kernel_shape");
            kernel.Type = AttributeProto.Types.AttributeType.String;
            kernel.S = ByteString.CopyFromUtf8("4");
        });
        StringAssert.Contains(Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(typed)).Message, "has attribute 'kernel_shape' of type String; ONNX defines it as Ints.");
        var (model, nan) = Edited("vit", m =>
        {
            var w = m.Graph.Initializer.First(i => i.Name.EndsWith("intermediate.dense.weight", StringComparison.Ordinal) || i.Name.EndsWith("dense.weight", StringComparison.Ordinal));
            var bytes = w.RawData.ToByteArray();
            BitConverter.GetBytes(float.NaN).CopyTo(bytes, 4 * 3);
            w.RawData = ByteString.CopyFrom(bytes);
        });
        var e = Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(nan));
        StringAssert.Contains(e.Message, "holds NaN at element 3; an encoder's weights are finite");
    }

    [TestMethod]
    public void StrayFloatInitializer_IsNamed()
    {
        var (_, path) = Edited("bert", m => m.Graph.Initializer.Add(new TensorProto
        {
            Name = "stray", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 3 }, RawData = ByteString.CopyFrom(new byte[12]),
        }));
        var e = Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(path));
        Assert.AreEqual("stray", e.Tensor);
    }

    [TestMethod]
    public void HeadsThatDisagreeWithTheScoreDivisor_AreRefused()
    {
        // Layer 0 splits its query into 3 heads of 8 (still 24 wide) while its scores stay divided by √6.
        var (_, path) = Edited("bert", m =>
        {
            var add = m.Graph.Node.First(n => n.OpType == "Add" && n.Input.Contains("encoder.layer.0.attention.self.query.bias"));
            var reshape = m.Graph.Node.First(n => n.OpType == "Reshape" && n.Input[0] == add.Output[0]);
            var concat = m.Graph.Node.First(n => n.Output.Contains(reshape.Input[1]));
            SetConstant(m, concat.Input[2], 3);
            SetConstant(m, concat.Input[3], 8);
        });
        var e = Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(path));
        Assert.AreEqual("encoder.layer.0.attention.self.query.bias", e.Tensor);
        StringAssert.Contains(e.Message, "√8");
    }

    [TestMethod]
    public void EpsilonsThatDisagree_AreRefusedNamingTheLayerNorm()
    {
        var (_, path) = Edited("bert", m =>
        {
            var mul = m.Graph.Node.First(n => n.OpType == "Mul" && n.Input.Contains("encoder.layer.1.output.LayerNorm.weight"));
            var div = m.Graph.Node.First(n => n.Output.Contains(mul.Input[0]));
            var sqrt = m.Graph.Node.First(n => n.Output.Contains(div.Input[1]));
            var add = m.Graph.Node.First(n => n.Output.Contains(sqrt.Input[0]));
            var c = m.Graph.Node.First(n => n.Output.Contains(add.Input[1]));
            c.Attribute[0].T.RawData = ByteString.CopyFrom(BitConverter.GetBytes(1e-5f));
        });
        var e = Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(path));
        Assert.AreEqual("encoder.layer.1.output.LayerNorm.weight", e.Tensor);
        StringAssert.Contains(e.Message, "1E-05");
    }

    private static void SetConstant(ModelProto m, string output, long value)
    {
        var node = m.Graph.Node.First(n => n.OpType == "Constant" && n.Output.Contains(output));
        node.Attribute.First(a => a.Name == "value").T.RawData = ByteString.CopyFrom(BitConverter.GetBytes(value));
    }

    [TestMethod]
    public void NotAnEncoder_IsATypedError()
    {
        var e = Assert.ThrowsExactly<OnnxImportException>(() => TorchEncoderImporter.Import(
            Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", "base.onnx")));
        StringAssert.Contains(e.Message, "not an encoder the importer knows");
    }
}
