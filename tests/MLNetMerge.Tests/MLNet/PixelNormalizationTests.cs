using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Encoders;
using MLNetMerge.MLNet;
using SkiaSharp;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// Per-channel pixel normalisation (docs/mlnet.md, Images): ExtractPixels per plane concatenated in R, G, B order gives
/// <c>(pixel/255 − mean[c]) / std[c]</c> on colour PNGs; a family's <c>preprocessor_config.json</c> is read into
/// <see cref="MergeFamily.PixelMean"/>/<see cref="MergeFamily.PixelStd"/> and used by <c>ImagePixels(family, column)</c>;
/// malformed settings are refused naming the file and the key.
/// </summary>
[TestClass]
public sealed class PixelNormalizationTests
{
    private const int Side = 28;

    /// <summary>Writes an opaque colour PNG whose pixel (x, y) is (r, g, b) = ((7x + y) % 256, (3y + 50) % 256, (x·y) % 256).</summary>
    private static (string Name, byte[] Planes) WriteColourPng(string folder, int seed)
    {
        var planes = new byte[3 * Side * Side];
        using var bitmap = new SKBitmap(new SKImageInfo(Side, Side, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
            {
                byte r = (byte)((7 * x + y + seed) % 256), g = (byte)((3 * y + 50 + seed) % 256), b = (byte)((x * y + seed) % 256);
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
                planes[y * Side + x] = r;
                planes[Side * Side + y * Side + x] = g;
                planes[2 * Side * Side + y * Side + x] = b;
            }
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        string name = $"colour{seed}.png";
        File.WriteAllBytes(Path.Combine(folder, name), png.ToArray());
        return (name, planes);
    }

    [TestMethod]
    public void PerChannelMeanAndStd_NormaliseEachPlane()
    {
        string folder = Directory.CreateTempSubdirectory("mlnet-rgb-").FullName;
        try
        {
            var images = new[] { WriteColourPng(folder, 0), WriteColourPng(folder, 11) };
            float[] mean = [0.48145466f, 0.4578275f, 0.40821073f], std = [0.26862954f, 0.26130258f, 0.27577711f];
            var pairs = mean.Zip(std, ImagePixelSteps.OffsetAndScale).ToArray();
            var ml = new MLContext(seed: 0);
            var input = new ArrayDataViewBuilder().AddText("ImagePath", [.. images.Select(i => i.Name)]).Build();
            var steps = ImagePixelSteps.Create(ml, "pixel_values", "ImagePath", folder, Side, 3,
                [.. pairs.Select(p => p.Offset)], [.. pairs.Select(p => p.Scale)]).Fit(input);
            var output = steps.Transform(input);
            CollectionAssert.AreEqual(new[] { "ImagePath", "pixel_values" }, output.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToArray(),
                "the planes and the image column are dropped");
            var rows = output.GetColumn<float[]>("pixel_values").ToArray();
            for (int i = 0; i < images.Length; i++)
            {
                Assert.AreEqual(3 * Side * Side, rows[i].Length);
                for (int k = 0; k < rows[i].Length; k++)
                {
                    int c = k / (Side * Side);
                    float want = (images[i].Planes[k] / 255f - mean[c]) / std[c];
                    Assert.AreEqual(want, rows[i][k], 2e-5f, $"image {i}, channel {c}, element {k % (Side * Side)}");
                }
            }
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [TestMethod]
    public void PreprocessorConfig_IsReadOnTheUnitScale()
    {
        string dir = Directory.CreateTempSubdirectory("mlnet-preproc-").FullName;
        try
        {
            string file = Path.Combine(dir, ImagePreprocessing.FileName);
            Assert.IsNull(ImagePreprocessing.Read(dir, 3), "no file: no settings");
            File.WriteAllText(file, """{"image_mean": [0.5, 0.25, 0.125], "image_std": [0.5, 0.5, 0.25], "rescale_factor": 0.00392156862745098}""");
            var p = ImagePreprocessing.Read(dir, 3)!;
            CollectionAssert.AreEqual(new[] { 0.5f, 0.25f, 0.125f }, p.Mean);
            CollectionAssert.AreEqual(new[] { 0.5f, 0.5f, 0.25f }, p.Std);
            // rescale_factor 1/127.5 = 2/255: x = (2·pixel/255 − 1)/1 = (pixel/255 − 0.5)/0.5 on the unit scale.
            File.WriteAllText(file, """{"image_mean": 1.0, "image_std": 1.0, "rescale_factor": 0.00784313725490196}""");
            p = ImagePreprocessing.Read(dir, 1)!;
            Assert.AreEqual(0.5f, p.Mean[0], 1e-7f);
            Assert.AreEqual(0.5f, p.Std[0], 1e-7f);
            File.WriteAllText(file, """{"do_normalize": false, "image_mean": [9, 9, 9]}""");
            p = ImagePreprocessing.Read(dir, 3)!;
            CollectionAssert.AreEqual(new[] { 0f, 0f, 0f }, p.Mean);
            CollectionAssert.AreEqual(new[] { 1f, 1f, 1f }, p.Std);

            foreach (var (json, key) in new[]
            {
                ("""{"image_mean": [0.5, 0.5], "image_std": 0.5}""", "image_mean has 2 values; the encoder has 3 channels"),
                ("""{"image_std": [0.5, 0, 0.5]}""", "image_std"),
                ("""{"image_mean": ["a", 0, 0]}""", "image_mean"),
                ("""{"rescale_factor": -1}""", "rescale_factor"),
                ("""{"image_mean": [0.5, 0.5""", "not valid JSON"),
            })
            {
                File.WriteAllText(file, json);
                var e = Assert.ThrowsExactly<MergeException>(() => ImagePreprocessing.Read(dir, 3), json);
                StringAssert.Contains(e.Message, ImagePreprocessing.FileName);
                StringAssert.Contains(e.Message, key);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [TestMethod]
    public void FamilyWithPreprocessorConfig_NormalisesAsItSays_AndMergesCarryIt()
    {
        string dir = Directory.CreateTempSubdirectory("mlnet-preproc-family-").FullName;
        try
        {
            foreach (var f in new[] { "base.safetensors", "fashion.safetensors", "config.json" })
                File.Copy(Path.Combine(ZooPaths.Vision, f), Path.Combine(dir, f));
            var ml = new MLContext(seed: 0);
            using (var plain = ml.Merging().LoadFamily(Path.Combine(dir, "base.safetensors"), [("fashion", Path.Combine(dir, "fashion.safetensors"))]))
                Assert.IsNull(plain.PixelMean);
            File.WriteAllText(Path.Combine(dir, ImagePreprocessing.FileName), """{"image_mean": [0.25], "image_std": [0.125]}""");
            using var family = ml.Merging().LoadFamily(Path.Combine(dir, "base.safetensors"), [("fashion", Path.Combine(dir, "fashion.safetensors"))]);
            CollectionAssert.AreEqual(new[] { 0.25f }, family.PixelMean!.ToArray());
            CollectionAssert.AreEqual(new[] { 0.125f }, family.PixelStd!.ToArray());
            CollectionAssert.Contains(family.Family.Architecture.ModelFiles.ToList(), ImagePreprocessing.FileName, "merge outputs carry the image processor's settings");

            var (pixels, _, _) = ZooImages.Load("fashion", 3);
            string images = Path.Combine(dir, "images");
            Directory.CreateDirectory(images);
            string[] files = ZooImages.WritePngs(images, pixels);
            var input = new ArrayDataViewBuilder().AddText("ImagePath", files).Build();
            float[] got = [.. ml.Merging().ImagePixels(family, "ImagePath", images).Fit(input).Transform(input)
                .GetColumn<float[]>(MergeColumns.PixelValues).SelectMany(r => r)];
            float[] want = [.. pixels.Select(b => (b / 255f - 0.25f) / 0.125f)];
            Assert.IsLessThan(1e-5, OnnxRuntimeDirect.MaxAbsDiff(want, got));
            // An explicit mean and std still win.
            float[] explicitly = [.. ml.Merging().ImagePixels(family, "ImagePath", images, mean: 0.5f, std: 0.5f).Fit(input).Transform(input)
                .GetColumn<float[]>(MergeColumns.PixelValues).SelectMany(r => r)];
            Assert.IsLessThan(1e-6, OnnxRuntimeDirect.MaxAbsDiff(ZooImages.Normalized(pixels), explicitly));
            var wrong = Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().ImagePixels(family, "ImagePath", images, [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]));
            StringAssert.Contains(wrong.Message, "1 channels");
            Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().ImagePixels(family, "ImagePath", images, mean: float.NaN, std: 0.5f));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
