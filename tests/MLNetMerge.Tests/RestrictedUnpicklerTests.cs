using System.Numerics;
using MLNetMerge.Checkpoints.PyTorch;

namespace MLNetMerge.Tests;

/// <summary>The restricted unpickler on hand-written pickles: values, memo, inert objects, allow-list, limits.</summary>
[TestClass]
public sealed class RestrictedUnpicklerTests
{
    private static object? Load(params byte[][] parts)
        => RestrictedUnpickler.Load(parts.SelectMany(p => p).ToArray(), "test.pt", "archive/data.pkl", new TorchPickleRebuild("test.pt"));

    private static byte[] B(params int[] bytes) => bytes.Select(b => (byte)b).ToArray();

    private static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [TestMethod]
    public void ScalarsDecodeAsPythonWouldReadThem()
    {
        // (BININT -2, BININT1 255, BININT2 65535, LONG1 [0xff] = -1, LONG1 of 9 bytes = 2^64, BINFLOAT 1.5, True, None, 'é')
        var t = (PickleTuple)Load(
            B(0x80, 2, '('),
            B('J', 0xfe, 0xff, 0xff, 0xff),
            B('K', 0xff),
            B('M', 0xff, 0xff),
            B(0x8a, 1, 0xff),
            B(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1),
            B('G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0),
            B(0x88, 'N'),
            B(0x8c, 2, 0xc3, 0xa9),
            B('t', '.'))!;
        CollectionAssert.AreEqual(new object?[] { -2L, 255L, 65535L, -1L, BigInteger.One << 64, 1.5, true, null, "é" }, t.Items);
    }

    [TestMethod]
    public void MemoAndContainersShareObjects()
    {
        // x = []; x.append(1); (x, x, frozenset({7}), {'k': x})  — both tuple slots and the dict value are the same list
        var t = (PickleTuple)Load(
            B(0x80, 4, ']', 0x94, 'K', 1, 'a', '0'),   // EMPTY_LIST, MEMOIZE → memo 0, APPEND 1, POP
            B('(', 'h', 0, 'h', 0),                     // MARK, BINGET 0 twice
            B('(', 'K', 7, 0x91),                       // FROZENSET {7}
            B('}', 0x8c, 1, 'k', 'h', 0, 's'),          // {'k': x}
            B('t', '.'))!;
        var x = (List<object?>)t.Items[0]!;
        CollectionAssert.AreEqual(new object?[] { 1L }, x);
        Assert.AreSame(x, t.Items[1]);
        CollectionAssert.AreEqual(new object?[] { 7L }, ((PickleSet)t.Items[2]!).Items);
        Assert.IsTrue(((PickleDict)t.Items[3]!).TryGet("k", out var v));
        Assert.AreSame(x, v);
    }

    [TestMethod]
    public void NewObjOfAnyClassBuildsAnInertRecord()
    {
        // NEWOBJ posix.system(('rm -rf /',)) then BUILD {'a': 1}: a record of class, args and state; nothing is called.
        var obj = (PickleObject)Load(
            B(0x80, 2), Ascii("cposix\nsystem\n"),
            B(0x8c, 8), Ascii("rm -rf /"), B(0x85, 0x81),
            B('}', 0x8c, 1, 'a', 'K', 1, 's', 'b', '.'))!;
        Assert.AreEqual("posix.system", obj.Type.FullName);
        CollectionAssert.AreEqual(new object?[] { "rm -rf /" }, obj.Args);
        Assert.IsTrue(obj.State.TryGet("a", out var a));
        Assert.AreEqual(1L, a);
    }

    [TestMethod]
    [DataRow("os", "system")]
    [DataRow("subprocess", "Popen")]
    [DataRow("builtins", "getattr")]
    [DataRow("torch", "load")]
    public void ReduceOfAnyOtherGlobalIsRefusedByName(string module, string name)
    {
        // GLOBAL module name, EMPTY_TUPLE, REDUCE: REDUCE at byte 2 + len("c…\n…\n") + 1.
        int reduceAt = 2 + 1 + module.Length + 1 + name.Length + 1 + 1;
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() =>
            Load(B(0x80, 2), Ascii($"c{module}\n{name}\n"), B(')', 'R', '.')));
        StringAssert.Contains(error.Message, $"'{module}.{name}'");
        StringAssert.Contains(error.Message, $"archive/data.pkl byte {reduceAt}:");
        StringAssert.StartsWith(error.Message, "test.pt: ");
    }

    [TestMethod]
    public void OrderedDictAndSetAreInterpreted()
    {
        // OrderedDict([('b', 2), ('a', 1)]) via REDUCE keeps insertion order; builtins.set([3]) via REDUCE.
        var t = (PickleTuple)Load(
            B(0x80, 2), Ascii("ccollections\nOrderedDict\n"),
            B(']', '(', 0x8c, 1, 'b', 'K', 2, 0x86, 0x8c, 1, 'a', 'K', 1, 0x86, 'e', 0x85, 'R'),
            Ascii("cbuiltins\nset\n"), B(']', 'K', 3, 'a', 0x85, 'R'),
            B(0x86, '.'))!;
        var d = (PickleDict)t.Items[0]!;
        CollectionAssert.AreEqual(new object?[] { "b", "a" }, d.Items.Select(kv => kv.Key).ToArray());
        CollectionAssert.AreEqual(new object?[] { 3L }, ((PickleSet)t.Items[1]!).Items);
    }

    [TestMethod]
    [DataRow(new byte[] { 0x80, 2, 0x82, 1, (byte)'.' }, "EXT1 (0x82)", 2)]
    [DataRow(new byte[] { 0x80, 2, (byte)'I', (byte)'1', (byte)'\n', (byte)'.' }, "INT (0x49)", 2)]
    [DataRow(new byte[] { 0x80, 2, (byte)'N', 0xfe }, "unknown (0xfe)", 3)]
    [DataRow(new byte[] { 0x80, 2, (byte)'i' }, "INST (0x69)", 2)]
    public void UnsupportedOpcodesAreRefusedWithNameAndPosition(byte[] pickle, string name, int at)
    {
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => Load(pickle));
        StringAssert.Contains(error.Message, $"byte {at}: pickle opcode {name}");
    }

    [TestMethod]
    public void MalformedPicklesAreRefused()
    {
        Assert.ThrowsExactly<CheckpointFormatException>(() => Load(B(0x80, 2, 'N')));                    // no STOP
        Assert.ThrowsExactly<CheckpointFormatException>(() => Load(B(0x80, 2, 'X', 0xff, 0xff, 0, 0)));   // string longer than the pickle
        Assert.ThrowsExactly<CheckpointFormatException>(() => Load(B(0x80, 2, 'h', 9, '.')));             // memo never stored
        Assert.ThrowsExactly<CheckpointFormatException>(() => Load(B(0x80, 2, 'a', '.')));                // pop from empty stack
        Assert.ThrowsExactly<CheckpointFormatException>(() => Load(B(0x80, 2, 'N', 'N', '.')));           // two values at STOP
        Assert.ThrowsExactly<CheckpointFormatException>(() => Load(B(0x80, 1, 'N', '.')));                // protocol 1
        Assert.ThrowsExactly<CheckpointFormatException>(() => Load(B(0x80, 2, 'N', 'Q', '.')));           // persistent id not a storage tuple
    }

    [TestMethod]
    public void StackIsBounded()
    {
        // MaxStack + 1 NONE opcodes: the last push exceeds the bound.
        byte[] pickle = new byte[RestrictedUnpickler.MaxStack + 4];
        pickle[0] = 0x80; pickle[1] = 2;
        pickle.AsSpan(2, RestrictedUnpickler.MaxStack + 1).Fill((byte)'N');
        pickle[^1] = (byte)'.';
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => Load(pickle));
        StringAssert.Contains(error.Message, "stack exceeds");
    }

    [TestMethod]
    public void TensorRebuildMakesAViewOfThePersistentStorage()
    {
        // _rebuild_tensor_v2(('storage', torch.HalfStorage, '3', 'cpu', 10), 2, (2, 3), (1, 2), False, OrderedDict())
        var t = (TorchTensorRef)Load(
            B(0x80, 2), Ascii("ctorch._utils\n_rebuild_tensor_v2\n"),
            B('(', '('), B(0x8c, 7), Ascii("storage"), Ascii("ctorch\nHalfStorage\n"),
            B(0x8c, 1, '3', 0x8c, 3, 'c', 'p', 'u', 'K', 10, 't', 'Q'),
            B('K', 2, 'K', 2, 'K', 3, 0x86, 'K', 1, 'K', 2, 0x86, 0x89),
            Ascii("ccollections\nOrderedDict\n"), B(')', 'R', 't', 'R', '.'))!;
        Assert.AreEqual(new TorchStorageRef("3", Tensors.DType.F16, 10, "cpu"), t.Storage);
        Assert.AreEqual(2L, t.StorageOffset);
        CollectionAssert.AreEqual(new[] { 2, 3 }, t.Shape);
        CollectionAssert.AreEqual(new long[] { 1, 2 }, t.Strides);
    }

    [TestMethod]
    public void TensorRebuildV3ReinterpretsAnUntypedStorage()
    {
        // _rebuild_tensor_v3(('storage', torch.UntypedStorage, '0', 'cpu', 8), 1, (2,), (1,), False, OrderedDict(), torch.uint16):
        // 8 bytes are 4 uint16 elements; the view starts at element 1.
        byte[] Pickle(string storageType) =>
        [
            .. B(0x80, 2), .. Ascii("ctorch._utils\n_rebuild_tensor_v3\n"),
            .. B('(', '('), .. B(0x8c, 7), .. Ascii("storage"), .. Ascii($"ctorch\n{storageType}\n"),
            .. B(0x8c, 1, '0', 0x8c, 3, 'c', 'p', 'u', 'K', 8, 't', 'Q'),
            .. B('K', 1, 'K', 2, 0x85, 'K', 1, 0x85, 0x89),
            .. Ascii("ccollections\nOrderedDict\n"), .. B(')', 'R'), .. Ascii("ctorch\nuint16\n"), .. B('t', 'R', '.'),
        ];
        var t = (TorchTensorRef)Load(Pickle("UntypedStorage"))!;
        Assert.AreEqual(new TorchStorageRef("0", Tensors.DType.U16, 4, "cpu"), t.Storage);
        Assert.AreEqual(1L, t.StorageOffset);
        // A typed storage of another dtype may not be reinterpreted: the rebuild is refused, to be reported under the
        // tensor's name once the state dict is flattened.
        var defect = (TorchTensorDefect)Load(Pickle("FloatStorage"))!;
        StringAssert.Contains(defect.Problem, "holds F32 but the tensor is U16");
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => TorchStateDictFlattener.Flatten(defect, "test.pt"));
        Assert.AreEqual("tensor", error.Tensor);
    }

    /// <summary>{'enc.w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 4), 0, (2,), (<paramref name="stride"/>,), False, OrderedDict())}.</summary>
    internal static byte[] StateDictWithOneView(int stride) =>
    [
        .. B(0x80, 2), .. Ascii("ccollections\nOrderedDict\n"), .. B(')', 'R'),
        .. B(0x8c, 5), .. Ascii("enc.w"),
        .. Ascii("ctorch._utils\n_rebuild_tensor_v2\n"),
        .. B('(', '('), .. B(0x8c, 7), .. Ascii("storage"), .. Ascii("ctorch\nFloatStorage\n"),
        .. B(0x8c, 1, '0', 0x8c, 3, 'c', 'p', 'u', 'K', 4, 't', 'Q'),
        .. B('K', 0, 'K', 2, 0x85), .. B('J'), .. BitConverter.GetBytes(stride), .. B(0x85, 0x89),
        .. Ascii("ccollections\nOrderedDict\n"), .. B(')', 'R', 't', 'R', 's', '.'),
    ];

    [TestMethod]
    public void RefusedTensorRebuildIsReportedUnderTheTensorsName()
    {
        // A negative stride is found while unpickling, before the dict key is attached; the error still names 'enc.w'.
        var root = Load(StateDictWithOneView(-1));
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => TorchStateDictFlattener.Flatten(root, "test.pt"));
        Assert.AreEqual("test.pt", error.File);
        Assert.AreEqual("enc.w", error.Tensor);
        StringAssert.Contains(error.Message, "negative stride -1");
        // The same pickle with stride 1 flattens to the tensor.
        var (tensors, _) = TorchStateDictFlattener.Flatten(Load(StateDictWithOneView(1)), "test.pt");
        Assert.AreEqual("enc.w", tensors.Single().Name);
    }

    [TestMethod]
    public void IntegerDictKeysReplaceInPlace()
    {
        // {1: 'a', 2: 'b', 1: 'c'} → {1: 'c', 2: 'b'} in first-insertion order, as Python keeps it.
        var d = (PickleDict)Load(B(0x80, 2, '}', '(', 'K', 1, 0x8c, 1, 'a', 'K', 2, 0x8c, 1, 'b', 'K', 1, 0x8c, 1, 'c', 'u', '.'))!;
        CollectionAssert.AreEqual(new object?[] { 1L, 2L }, d.Items.Select(kv => kv.Key).ToArray());
        CollectionAssert.AreEqual(new object?[] { "c", "b" }, d.Items.Select(kv => kv.Value).ToArray());
    }
}
