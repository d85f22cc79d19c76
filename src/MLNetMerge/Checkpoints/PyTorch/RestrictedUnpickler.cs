using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using static MLNetMerge.Checkpoints.PyTorch.PickleOpcodes;

namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// A pickle interpreter (protocols 2–5) that never imports or executes anything. GLOBAL and STACK_GLOBAL yield
/// <see cref="PickleGlobal"/> references; REDUCE, NEWOBJ and BUILD go to <see cref="TorchPickleRebuild"/>, which
/// interprets an allow-list of tensor-rebuild functions itself, builds inert <see cref="PickleObject"/> records for
/// classes, and rejects every other callable. Unknown opcodes are rejected with their name and byte position.
/// The stack, the mark stack and the memo are bounded, and every length is checked against the bytes remaining.
/// </summary>
internal sealed class RestrictedUnpickler
{
    /// <summary>Most values the stack may hold at once.</summary>
    public const int MaxStack = 1 << 20;

    /// <summary>Most entries the memo may hold.</summary>
    public const int MaxMemo = 1 << 20;

    private readonly byte[] _data;
    private readonly int _length;
    private readonly bool _complete;
    private readonly string _path;
    private readonly string _entry;
    private readonly TorchPickleRebuild _rebuild;
    private readonly List<object?> _stack = new(64);
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();
    private int _pos;
    private int _opStart;

    private RestrictedUnpickler(byte[] data, int length, bool complete, string path, string entry, TorchPickleRebuild rebuild)
    {
        _data = data;
        _length = length;
        _complete = complete;
        _path = path;
        _entry = entry;
        _rebuild = rebuild;
    }

    /// <summary>Interprets <paramref name="pickle"/> and returns the value STOP leaves on the stack.</summary>
    /// <param name="pickle">The pickle bytes (e.g. the zip entry <c>archive/data.pkl</c>).</param>
    /// <param name="path">The checkpoint file, for error messages.</param>
    /// <param name="entry">The entry the pickle came from, for error messages.</param>
    /// <param name="rebuild">Resolves persistent ids and the allow-listed callables.</param>
    /// <exception cref="CheckpointFormatException">Malformed pickle, forbidden global, unsupported opcode, or a limit exceeded.</exception>
    public static object? Load(byte[] pickle, string path, string entry, TorchPickleRebuild rebuild)
    {
        var unpickler = new RestrictedUnpickler(pickle, pickle.Length, true, path, entry, rebuild);
        object? value = unpickler.Run();
        if (unpickler._pos != pickle.Length)
            throw new CheckpointFormatException(path, null, $"{entry}: {pickle.Length - unpickler._pos} bytes follow the pickle's STOP.");
        return value;
    }

    /// <summary>
    /// Interprets the pickle that starts <paramref name="data"/>, where more pickles or raw data may follow
    /// (the legacy format). Returns the value and, in <paramref name="consumed"/>, the bytes up to and including STOP.
    /// </summary>
    /// <param name="data">Buffer holding the pickle from its first byte.</param>
    /// <param name="length">How many bytes of <paramref name="data"/> are valid.</param>
    /// <param name="complete">True when no bytes exist beyond <paramref name="length"/> (the end of the file).</param>
    /// <param name="path">The checkpoint file, for error messages.</param>
    /// <param name="entry">Where the pickle lies, for error messages.</param>
    /// <param name="rebuild">Resolves persistent ids and the allow-listed callables.</param>
    /// <param name="consumed">Bytes the pickle occupies.</param>
    /// <exception cref="EndOfStreamException">The pickle runs past <paramref name="length"/> and <paramref name="complete"/> is false: call again with more bytes.</exception>
    public static object? LoadPrefix(byte[] data, int length, bool complete, string path, string entry, TorchPickleRebuild rebuild, out int consumed)
    {
        var unpickler = new RestrictedUnpickler(data, length, complete, path, entry, rebuild);
        object? value = unpickler.Run();
        consumed = unpickler._pos;
        return value;
    }

    private object? Run()
    {
        while (true)
        {
            _opStart = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case Proto:
                    {
                        int proto = ReadByte();
                        if (proto is < 2 or > 5) throw Fail($"pickle protocol {proto} is not supported (2 to 5 are).");
                        break;
                    }
                case Frame: ReadUInt64(); break; // frames only group bytes; the data is all in memory
                case Stop:
                    if (_stack.Count != 1 || _marks.Count != 0) throw Fail($"STOP with {_stack.Count} values on the stack and {_marks.Count} open marks.");
                    return _stack[0];
                case Mark:
                    if (_marks.Count >= MaxStack) throw Fail($"more than {MaxStack} open marks.");
                    _marks.Push(_stack.Count);
                    break;
                case Pop:
                    if (_marks.Count > 0 && _marks.Peek() == _stack.Count) _marks.Pop(); // pickle.py: POP of an empty mark pops the mark
                    else PopValue();
                    break;
                case PopMark: PopToMark(); break;
                case Dup: Push(Peek()); break;
                case None: Push(null); break;
                case NewTrue: Push(true); break;
                case NewFalse: Push(false); break;
                case BinInt: Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case BinInt1: Push((long)ReadByte()); break;
                case BinInt2: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case Long1: Push(ReadLong(ReadByte())); break;
                case Long4:
                    {
                        int n = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                        if (n < 0) throw Fail($"LONG4 with negative length {n}.");
                        Push(ReadLong(n));
                        break;
                    }
                case BinFloat: Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case ShortBinUnicode: Push(ReadUtf8(ReadByte())); break;
                case BinUnicode: Push(ReadUtf8(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case BinUnicode8: Push(ReadUtf8(ReadUInt64())); break;
                case ShortBinBytes: Push(Take(ReadByte()).ToArray()); break;
                case BinBytes: Push(Take(CheckLength(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break;
                case BinBytes8:
                case ByteArray8: Push(Take(CheckLength(ReadUInt64())).ToArray()); break;
                case EmptyDict: Push(new PickleDict()); break;
                case EmptyList: Push(new List<object?>()); break;
                case EmptyTuple: Push(PickleTuple.Empty); break;
                case EmptySet: Push(new PickleSet()); break;
                case AddItems:
                    {
                        object?[] items = PopToMark();
                        if (Peek() is not PickleSet set) throw Fail($"ADDITEMS on a {Describe(Peek())}, not a set.");
                        set.Items.AddRange(items);
                        break;
                    }
                case FrozenSet:
                    {
                        var set = new PickleSet();
                        set.Items.AddRange(PopToMark());
                        Push(set);
                        break;
                    }
                case PickleOpcodes.Tuple: Push(new PickleTuple(PopToMark())); break;
                case Tuple1: { object? a = PopValue(); Push(new PickleTuple([a])); break; }
                case Tuple2: { object? b = PopValue(), a = PopValue(); Push(new PickleTuple([a, b])); break; }
                case Tuple3: { object? c = PopValue(), b = PopValue(), a = PopValue(); Push(new PickleTuple([a, b, c])); break; }
                case List: Push(new List<object?>(PopToMark())); break;
                case Dict:
                    {
                        object?[] kv = PopToMark();
                        var dict = new PickleDict();
                        SetPairs(dict, kv);
                        Push(dict);
                        break;
                    }
                case Append: { object? v = PopValue(); AsList(Peek()).Add(v); break; }
                case Appends: { object?[] items = PopToMark(); AsList(Peek()).AddRange(items); break; }
                case SetItem:
                    {
                        object? v = PopValue(), k = PopValue();
                        SetPairs(Peek(), [k, v]);
                        break;
                    }
                case SetItems: { object?[] kv = PopToMark(); SetPairs(Peek(), kv); break; }
                case BinPut: MemoPut(ReadByte()); break;
                case LongBinPut: MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break;
                case Put: MemoPut(ParseIndex(ReadLine())); break;
                case Memoize: MemoPut(_memo.Count); break;
                case BinGet: Push(MemoGet(ReadByte())); break;
                case LongBinGet: Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case Get: Push(MemoGet(ParseIndex(ReadLine()))); break;
                case Global:
                    {
                        string module = ReadLine(), name = ReadLine();
                        Push(new PickleGlobal(module, name));
                        break;
                    }
                case StackGlobal:
                    {
                        object? name = PopValue(), module = PopValue();
                        if (module is not string m || name is not string n) throw Fail("STACK_GLOBAL needs two strings (module, name).");
                        Push(new PickleGlobal(m, n));
                        break;
                    }
                case Reduce:
                    {
                        object? args = PopValue(), callable = PopValue();
                        Push(_rebuild.Reduce(callable, AsTuple(args, "REDUCE arguments"), Where()));
                        break;
                    }
                case NewObj:
                    {
                        object? args = PopValue(), cls = PopValue();
                        Push(_rebuild.NewObject(cls, AsTuple(args, "NEWOBJ arguments").Items, Where()));
                        break;
                    }
                case NewObjEx:
                    {
                        object? kwargs = PopValue(), args = PopValue(), cls = PopValue();
                        var obj = _rebuild.NewObject(cls, AsTuple(args, "NEWOBJ_EX arguments").Items, Where());
                        if (obj is PickleObject po && kwargs is PickleDict kw) foreach (var kv in kw.Items) po.State.Set(kv.Key, kv.Value);
                        Push(obj);
                        break;
                    }
                case Build:
                    {
                        object? state = PopValue();
                        TorchPickleRebuild.Build(Peek(), state);
                        break;
                    }
                case BinPersId: Push(_rebuild.PersistentLoad(PopValue(), Where())); break;
                case PersId: Push(_rebuild.PersistentLoad(ReadLine(), Where())); break;
                default:
                    throw Fail($"pickle opcode {NameOf(op)} (0x{op:x2}) is not supported by this restricted reader.");
            }
        }
    }

    private string Where() => $"{_entry} byte {_opStart}";

    private CheckpointFormatException Fail(string message) => new(_path, null, $"{Where()}: {message}");

    private void Push(object? value)
    {
        if (_stack.Count >= MaxStack) throw Fail($"pickle stack exceeds {MaxStack} values.");
        _stack.Add(value);
    }

    private object? PopValue()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw Fail("pop from an empty stack (or across a mark).");
        object? v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw Fail("read from an empty stack (or across a mark).");
        return _stack[^1];
    }

    private object?[] PopToMark()
    {
        if (_marks.Count == 0) throw Fail("no MARK to pop to.");
        int at = _marks.Pop();
        object?[] items = _stack.GetRange(at, _stack.Count - at).ToArray();
        _stack.RemoveRange(at, _stack.Count - at);
        return items;
    }

    private void MemoPut(long index)
    {
        if (_memo.Count >= MaxMemo && !_memo.ContainsKey(index)) throw Fail($"pickle memo exceeds {MaxMemo} entries.");
        _memo[index] = Peek();
    }

    private object? MemoGet(long index)
        => _memo.TryGetValue(index, out object? v) ? v : throw Fail($"memo index {index} was never stored.");

    private List<object?> AsList(object? target)
        => target as List<object?> ?? throw Fail($"APPEND on a {Describe(target)}, not a list.");

    private PickleTuple AsTuple(object? value, string what)
        => value as PickleTuple ?? throw Fail($"{what} must be a tuple, found a {Describe(value)}.");

    private void SetPairs(object? target, object?[] kv)
    {
        if (kv.Length % 2 != 0) throw Fail("odd number of items for a dict.");
        PickleDict dict = target switch
        {
            PickleDict d => d,
            PickleObject o => o.State, // a dict subclass: keep its items with its state
            _ => throw Fail($"SETITEM on a {Describe(target)}, not a dict."),
        };
        for (int i = 0; i < kv.Length; i += 2)
        {
            if (kv[i] is List<object?> or PickleDict or PickleSet) throw Fail($"unhashable {Describe(kv[i])} used as a dict key.");
            dict.Set(kv[i], kv[i + 1]);
        }
    }

    internal static string Describe(object? v) => v switch
    {
        null => "None",
        PickleGlobal g => $"global {g.FullName}",
        PickleObject o => $"{o.Type.FullName} object",
        List<object?> => "list",
        PickleTuple => "tuple",
        PickleDict => "dict",
        PickleSet => "set",
        TorchTensorRef => "tensor",
        TorchStorageRef => "storage",
        _ => v.GetType().Name,
    };

    private byte ReadByte()
    {
        if (_pos >= _length)
        {
            if (!_complete) throw new EndOfStreamException();
            throw Fail($"pickle ends at byte {_length} without STOP (truncated?).");
        }
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> Take(long count)
    {
        if (count > _length - _pos && !_complete) throw new EndOfStreamException();
        if (count < 0 || count > _length - _pos)
            throw Fail($"needs {count} bytes but only {_length - _pos} remain in the pickle (truncated or corrupt).");
        var s = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return s;
    }

    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    private long CheckLength(ulong n)
        => n <= (ulong)(_length - _pos) ? (long)n
            : !_complete ? throw new EndOfStreamException()
            : throw Fail($"length {n} exceeds the {_length - _pos} bytes left in the pickle.");

    private string ReadUtf8(ulong length)
    {
        try { return new UTF8Encoding(false, true).GetString(Take(CheckLength(length))); }
        catch (DecoderFallbackException e) { throw new CheckpointFormatException(_path, null, $"{Where()}: string is not valid UTF-8.", e); }
    }

    /// <summary>A little-endian two's-complement integer of <paramref name="n"/> bytes (LONG1/LONG4); long when it fits, else BigInteger.</summary>
    private object ReadLong(int n)
    {
        ReadOnlySpan<byte> b = Take(n);
        if (n == 0) return 0L;
        var big = new BigInteger(b, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    /// <summary>A newline-terminated ASCII line (GLOBAL, PUT, GET, PERSID), at most 4096 bytes.</summary>
    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(4096, _length - _pos));
        if (end < 0 && !_complete && _length - _pos < 4096) throw new EndOfStreamException();
        if (end < 0) throw Fail("text argument has no terminating newline within 4096 bytes.");
        string s = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private long ParseIndex(string s)
        => long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
            ? v : throw Fail($"memo index '{s}' is not a number.");
}
