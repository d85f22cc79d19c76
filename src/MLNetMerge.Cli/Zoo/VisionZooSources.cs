using MLNetMerge.Data;

namespace MLNetMerge.Cli.Zoo;

/// <summary>
/// The raw images the vision zoo is built from, as 28×28 single-channel bytes (0 = black): Fashion-MNIST
/// (Debian's <c>dataset-fashion-mnist</c>, gzipped IDX) and scikit-learn's 8×8 digits (values 0–16, bundled CSV),
/// upscaled bilinearly to 28×28 and rescaled to 0–255.
/// </summary>
internal sealed class VisionZooSources
{
    /// <summary>Image side after preparation.</summary>
    public const int ImageSize = 28;

    /// <summary>Pixels per image.</summary>
    public const int Pixels = ImageSize * ImageSize;

    /// <summary>Default location of Debian's Fashion-MNIST files.</summary>
    public const string DefaultFashionDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Default location of scikit-learn's bundled data.</summary>
    public const string DefaultSklearnDirectory = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    /// <summary>Fashion-MNIST's class names, index = label.</summary>
    public static readonly string[] FashionClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Fashion-MNIST training images (60000 × 784).</summary>
    public required byte[] FashionTrainImages { get; init; }
    /// <summary>Fashion-MNIST training labels (60000).</summary>
    public required int[] FashionTrainLabels { get; init; }
    /// <summary>Fashion-MNIST test images (10000 × 784).</summary>
    public required byte[] FashionTestImages { get; init; }
    /// <summary>Fashion-MNIST test labels (10000).</summary>
    public required int[] FashionTestLabels { get; init; }
    /// <summary>Digits upscaled to 28×28 (1797 × 784).</summary>
    public required byte[] DigitsImages { get; init; }
    /// <summary>Digit labels (1797).</summary>
    public required int[] DigitsLabels { get; init; }

    /// <summary>Reads both sources.</summary>
    /// <param name="fashionDirectory">Folder with <c>train-images-idx3-ubyte.gz</c> etc.</param>
    /// <param name="sklearnDirectory">Folder with <c>digits.csv.gz</c>.</param>
    /// <exception cref="FileNotFoundException">A file is missing (the message says which package provides it).</exception>
    /// <exception cref="CheckpointFormatException">A file is malformed.</exception>
    public static VisionZooSources Load(string fashionDirectory = DefaultFashionDirectory, string sklearnDirectory = DefaultSklearnDirectory)
    {
        string F(string name) => Require(Path.Combine(fashionDirectory, name), "dataset-fashion-mnist");
        var trX = IdxFile.Read(F("train-images-idx3-ubyte.gz"));
        var trY = IdxFile.Read(F("train-labels-idx1-ubyte.gz"));
        var teX = IdxFile.Read(F("t10k-images-idx3-ubyte.gz"));
        var teY = IdxFile.Read(F("t10k-labels-idx1-ubyte.gz"));
        foreach (var (a, name) in new[] { (trX, "train images"), (teX, "test images") })
            if (a.Shape.Length != 3 || a.Shape[1] != ImageSize || a.Shape[2] != ImageSize)
                throw new CheckpointFormatException(fashionDirectory, null, $"Fashion-MNIST {name} have shape [{string.Join(", ", a.Shape)}]; expected [N, 28, 28].");
        if (trX.Count != trY.Count || teX.Count != teY.Count)
            throw new CheckpointFormatException(fashionDirectory, null, "Fashion-MNIST image and label counts differ.");
        var digits = SklearnCsv.Read(Require(Path.Combine(sklearnDirectory, "digits.csv.gz"), "python3-sklearn"));
        if (digits.FeatureLength != 64) throw new CheckpointFormatException(sklearnDirectory, null, $"digits have {digits.FeatureLength} features; expected 64 (8×8).");
        var up = new byte[digits.Count * Pixels];
        var small = new float[64];
        var large = new float[Pixels];
        for (int i = 0; i < digits.Count; i++)
        {
            var src = digits.Example(i);
            for (int j = 0; j < 64; j++) small[j] = src[j] / 16f;
            ImageTransforms.ResizeBilinear(large, small, 8, 8, ImageSize, ImageSize);
            for (int j = 0; j < Pixels; j++) up[i * Pixels + j] = (byte)Math.Clamp(MathF.Round(large[j] * 255f), 0, 255);
        }
        return new VisionZooSources
        {
            FashionTrainImages = trX.Data, FashionTrainLabels = trY.Data.Select(b => (int)b).ToArray(),
            FashionTestImages = teX.Data, FashionTestLabels = teY.Data.Select(b => (int)b).ToArray(),
            DigitsImages = up, DigitsLabels = digits.RequireLabels(),
        };
    }

    private static string Require(string path, string package) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path} not found; install it with `apt-get install {package}` or pass its folder.", path);
}
