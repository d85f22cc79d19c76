using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>Bilinear resize, quarter-turn rotation and inversion on hand-worked images.</summary>
[TestClass]
public sealed class ImageTransformsTests
{
    [TestMethod]
    public void ResizeTwoToFourMatchesHalfPixelBilinear()
    {
        // Input [[0, 4], [8, 12]] → 4×4. Row i samples y = (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1.
        // Same for columns. Value = 8y + 4x: row 1, col 2 → 8·0.25 + 4·0.75 = 5; row 3, col 3 → 8 + 4 = 12; row 0, col 1 → 1.
        var out4 = new float[16];
        ImageTransforms.ResizeBilinear(out4, [0, 4, 8, 12], 2, 2, 4, 4);
        Assert.AreEqual(0f, out4[0], 1e-6f);
        Assert.AreEqual(1f, out4[1], 1e-6f);
        Assert.AreEqual(5f, out4[1 * 4 + 2], 1e-6f);
        Assert.AreEqual(12f, out4[15], 1e-6f);
        Assert.AreEqual(8f * 0.75f + 4f * 0.25f, out4[2 * 4 + 1], 1e-6f);
    }

    [TestMethod]
    public void RotateMatchesNumpyRot90()
    {
        // numpy.rot90([[1, 2], [3, 4]]) = [[2, 4], [1, 3]]; k = 2 → [[4, 3], [2, 1]]; k = 3 (= −1) → [[3, 1], [4, 2]].
        float[] img = [1, 2, 3, 4];
        var r = new float[4];
        ImageTransforms.Rotate90(r, img, 2, 1); CollectionAssert.AreEqual(new float[] { 2, 4, 1, 3 }, r);
        ImageTransforms.Rotate90(r, img, 2, 2); CollectionAssert.AreEqual(new float[] { 4, 3, 2, 1 }, r);
        ImageTransforms.Rotate90(r, img, 2, -1); CollectionAssert.AreEqual(new float[] { 3, 1, 4, 2 }, r);
        ImageTransforms.Rotate90(r, img, 2, 4); CollectionAssert.AreEqual(img, r);
    }

    [TestMethod]
    public void InvertSubtractsFromMax()
    {
        var r = new float[3];
        ImageTransforms.Invert(r, [0f, 0.25f, 1f], 1f);
        CollectionAssert.AreEqual(new[] { 1f, 0.75f, 0f }, r);
    }
}
