using System.Text;
using MLNetMerge.Errors;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// Finite inputs, non-finite outputs (found by a number-format trial): a merged value beyond float16's or bfloat16's
/// range was written as ±inf, and float32 overflowing on inputs near ±3.4e38 (τ = θt − θ0) wrote ±inf, without a word
/// while NaN and infinity in the inputs are refused; heads were copied unchecked; a float64 value beyond float32's range
/// was reported as an infinity the file does not hold. Each is refused now, naming the tensor, unless allow_nonfinite.
/// </summary>
[TestClass]
public sealed class NonFiniteOutputsTests
{
    private static MergeExecutionOptions Options(DType? dtype = null, bool allow = false) =>
        new() { MaxThreads = 1, OutputDType = dtype, AllowNonFinite = allow };

    [TestMethod]
    public void OverflowLimitsAreTheRoundingBoundaries()
    {
        // float16: 65504 is the largest value and 65520 its halfway point to 2^16, which rounds (ties to even) to inf.
        float below = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(NonFiniteOutputs.Overflow(DType.F16)) - 1);
        Assert.AreEqual(65504f, (float)(Half)below);
        Assert.IsTrue(Half.IsInfinity((Half)NonFiniteOutputs.Overflow(DType.F16)));
        var justBelow = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(NonFiniteOutputs.Overflow(DType.BF16)) - 1);
        var bf16 = new byte[2];
        DTypeConversion.FromFloat32([justBelow], DType.BF16, bf16);
        Assert.AreEqual(0x7F7F, BitConverter.ToUInt16(bf16));
        DTypeConversion.FromFloat32([NonFiniteOutputs.Overflow(DType.BF16)], DType.BF16, bf16);
        Assert.AreEqual(0x7F80, BitConverter.ToUInt16(bf16), "the bfloat16 limit rounds to +inf");
        Assert.AreEqual(float.PositiveInfinity, NonFiniteOutputs.Overflow(DType.F32));
    }

    [TestMethod]
    public void AValueBeyondANarrowDtypeIsRefused()
    {
        float[] theta0 = [0, 1, 2, 3];
        float[] theta1 = [1, 65519, -65520, 3];
        var family = new TinyFamily("a").WithWeights("layers.0.w", [4], theta0, theta1);
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(family, "task_arithmetic", P(("scale", 1.0)), options: Options(DType.F16)));
        Assert.AreEqual("layers.0.w", e.Tensor);
        StringAssert.Contains(e.Message, "merged element 2 is -65520, beyond float16's range (largest 65504), and would be written as ±inf");
        // 65519 rounds to 65504: kept. bfloat16 and float32 hold all four; allow_nonfinite writes float16's inf.
        Assert.AreEqual(-65520f, Run(family, "task_arithmetic", P(("scale", 1.0)), options: Options(DType.BF16)).Tensors["layers.0.w"][2]);
        Assert.AreEqual(-65520f, Run(family, "task_arithmetic", P(("scale", 1.0)), options: Options(DType.F16, allow: true)).Tensors["layers.0.w"][2]);
        var big = new TinyFamily("a").WithWeights("layers.0.w", [2], [0, 0], [float.MaxValue, 1]);
        StringAssert.Contains(Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(big, "weight_average", options: Options(DType.BF16))).Message,
            "beyond bfloat16's range");
    }

    [TestMethod]
    [DataRow("task_arithmetic")]  // the fused sweep's own check
    [DataRow("ties")]             // the executor's check after the merge
    public void Float32OverflowOfFiniteInputsIsRefused(string method)
    {
        var family = new TinyFamily("a", "b").WithWeights("layers.0.w", [2], [-float.MaxValue, 0], [float.MaxValue, 1], [float.MaxValue, 1]);
        var parameters = method == "ties" ? P(("keep", 1.0)) : P(("scale", 1.0));
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(family, method, parameters, options: Options()));
        StringAssert.Contains(e.Message, "merged element 0 is ");
        StringAssert.Contains(e.Message, "although every input is finite (float32 overflowed");
        Assert.IsFalse(float.IsFinite(Run(family, method, parameters, options: Options(allow: true)).Tensors["layers.0.w"][0]));
    }

    [TestMethod]
    public void HeadsAreCheckedLikeEveryInput()
    {
        var family = new TinyFamily("a", "b").WithWeights("layers.0.w", [2], [0, 0], [1, 1], [2, 2]).WithHead("b", "classifier.weight", [3], [1, float.NaN, 2]);
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(family, "task_arithmetic", options: Options()));
        Assert.AreEqual("classifier.weight", e.Tensor);
        StringAssert.Contains(e.Message, "holds NaN at element 1");
        Assert.IsTrue(float.IsNaN(BitConverter.ToSingle(Run(family, "task_arithmetic", options: Options(allow: true)).Heads["b"]["classifier.weight"], 4)));
    }

    [TestMethod]
    public void AFloat64ValueBeyondFloat32IsNamedAsSuch()
    {
        string dir = Directory.CreateTempSubdirectory("f64-").FullName;
        try
        {
            WriteF64(Path.Combine(dir, "base.safetensors"), [0, 1]);
            WriteF64(Path.Combine(dir, "t.safetensors"), [1e300, 1]);
            string yaml = $"method: task_arithmetic\nbase: base.safetensors\nmodels:\n  - {{ name: t, path: t.safetensors }}\noutput: out\n";
            var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => RecipeRunner.Merge(MergeRecipe.Parse(yaml, Path.Combine(dir, "r.yaml"), dir)));
            Assert.AreEqual(Path.Combine(dir, "t.safetensors"), e.File);
            StringAssert.Contains(e.Message, "element 0 is a float64 value beyond float32's range (±3.4e38), which the merge, computing in float32, reads as Infinity");
        }
        finally { Directory.Delete(dir, true); }
    }

    private static void WriteF64(string path, double[] values)
    {
        string header = $"{{\"layers.0.w\":{{\"dtype\":\"F64\",\"shape\":[{values.Length}],\"data_offsets\":[0,{8 * values.Length}]}}}}";
        while (header.Length % 8 != 0) header += " ";
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes((long)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
        foreach (double v in values) s.Write(BitConverter.GetBytes(v));
    }
}
