using MLNetMerge.Tensors;
using MLNetMerge.Data;

namespace MLNetMerge.Cli.Zoo;

/// <summary>Where a zoo task's images come from.</summary>
internal enum VisionSource
{
    /// <summary>Fashion-MNIST (train file for train/validation, t10k for test).</summary>
    Fashion,
    /// <summary>scikit-learn digits upscaled to 28×28 (one stratified split shared by every digits task).</summary>
    Digits,
}

/// <summary>Pixel transform applied to every image of a task.</summary>
internal enum VisionTransform
{
    /// <summary>Unchanged.</summary>
    None,
    /// <summary>Rotated 90° counter-clockwise.</summary>
    Rotate90,
    /// <summary>Intensities inverted (255 − b).</summary>
    Invert,
}

/// <summary>
/// One task of the vision zoo: a source, the source classes it keeps (in order; the new label is the position) or a
/// relabelling, class names, and a transform.
/// </summary>
/// <param name="Name">Task name (also the checkpoint's file name).</param>
/// <param name="Source">Image source.</param>
/// <param name="Relabel">Source label → task label, or −1 to drop the example.</param>
/// <param name="ClassNames">Task class names.</param>
/// <param name="Transform">Pixel transform.</param>
/// <param name="Description">One line for the manifest.</param>
internal sealed record VisionTaskSpec(string Name, VisionSource Source, int[] Relabel, string[] ClassNames, VisionTransform Transform, string Description);

/// <summary>A task's images as bytes (N × 784) with labels: the form stored in the zoo.</summary>
/// <param name="Images">Images (N, 28, 28) as bytes.</param>
/// <param name="Labels">Labels (N).</param>
internal sealed record ByteImages(byte[] Images, int[] Labels)
{
    /// <summary>N.</summary>
    public int Count => Labels.Length;

    /// <summary>As a float dataset (N, 1, 28, 28) with pixels mapped to [−1, 1] by <see cref="VisionZooTasks.Normalize"/>.</summary>
    public TaskDataset ToDataset(string name, IReadOnlyList<string> classNames)
    {
        var f = new float[Images.Length];
        for (int i = 0; i < f.Length; i++) f[i] = VisionZooTasks.Normalize(Images[i]);
        return new TaskDataset(name, f, [1, VisionZooSources.ImageSize, VisionZooSources.ImageSize], Labels, classNames);
    }
}

/// <summary>The eight tasks of the vision zoo and how their splits are drawn.</summary>
internal static class VisionZooTasks
{
    /// <summary>Pixel normalisation: <c>x = b/127.5 − 1</c> (mean 0.5, std 0.5 on [0, 1]).</summary>
    public static float Normalize(byte b) => ZooManifest.NormalizePixel(b);

    private static int[] Keep(params int[] classes)
    {
        var map = Enumerable.Repeat(-1, 10).ToArray();
        for (int i = 0; i < classes.Length; i++) map[classes[i]] = i;
        return map;
    }

    private static readonly int[] Identity = Enumerable.Range(0, 10).ToArray();
    private static readonly string[] DigitNames = Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The task list, in manifest order.</summary>
    public static IReadOnlyList<VisionTaskSpec> All { get; } =
    [
        new("fashion", VisionSource.Fashion, Identity, VisionZooSources.FashionClasses, VisionTransform.None, "Fashion-MNIST, 10 classes"),
        new("digits", VisionSource.Digits, Identity, DigitNames, VisionTransform.None, "scikit-learn digits upscaled 8×8 → 28×28, 10 classes"),
        new("fashion_tops", VisionSource.Fashion, Keep(0, 2, 4, 6), ["T-shirt/top", "Pullover", "Coat", "Shirt"], VisionTransform.None, "fine-grained Fashion tops (4 look-alike classes)"),
        new("fashion_footwear", VisionSource.Fashion, Keep(5, 7, 9), ["Sandal", "Sneaker", "Ankle boot"], VisionTransform.None, "fine-grained Fashion footwear (3 classes)"),
        new("digits_inverted", VisionSource.Digits, Identity, DigitNames, VisionTransform.Invert, "digits with inverted intensities (dark on light)"),
        new("fashion_rot90", VisionSource.Fashion, Identity, VisionZooSources.FashionClasses, VisionTransform.Rotate90, "Fashion-MNIST rotated 90° counter-clockwise"),
        new("digits_parity", VisionSource.Digits, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], ["even", "odd"], VisionTransform.None, "digits grouped as even vs odd (2 classes)"),
        new("fashion_inverted", VisionSource.Fashion, Identity, VisionZooSources.FashionClasses, VisionTransform.Invert, "Fashion-MNIST with inverted intensities"),
    ];

    /// <summary>Sizes of the splits drawn per task.</summary>
    /// <param name="FashionTrain">Fashion training examples per task (balanced over its classes).</param>
    /// <param name="FashionValidation">Fashion validation examples per task (balanced, disjoint from train).</param>
    /// <param name="FashionTest">Fashion test examples per task (balanced, from the t10k file).</param>
    /// <param name="DigitsValidationFraction">Share of the digits for validation.</param>
    /// <param name="DigitsTestFraction">Share of the digits for test.</param>
    internal sealed record SplitSizes(int FashionTrain = 2000, int FashionValidation = 200, int FashionTest = 500,
        double DigitsValidationFraction = 0.12, double DigitsTestFraction = 0.25);

    /// <summary>Draws a task's train, validation and test images (seeded; digits share one split across tasks, so no
    /// digits test image is ever a training image of another task).</summary>
    public static (ByteImages Train, ByteImages Validation, ByteImages Test) Build(VisionZooSources src, VisionTaskSpec spec, SplitSizes sizes, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(spec);
        int k = spec.ClassNames.Length;
        if (spec.Source == VisionSource.Digits)
        {
            var (tr, va, te) = DatasetSplits.Stratified(src.DigitsLabels, 10, sizes.DigitsValidationFraction, sizes.DigitsTestFraction, RandomStreams.Key(seed, "zoo.digits_split"));
            return (Take(src.DigitsImages, src.DigitsLabels, tr, spec), Take(src.DigitsImages, src.DigitsLabels, va, spec), Take(src.DigitsImages, src.DigitsLabels, te, spec));
        }
        var (trainIdx, valIdx) = BalancedTrainValidation(src.FashionTrainLabels, spec.Relabel, k, sizes.FashionTrain / k, sizes.FashionValidation / k, RandomStreams.Key(seed, "zoo.draw.train_validation", 0, spec.Name));
        var testIdx = Balanced(src.FashionTestLabels, spec.Relabel, k, sizes.FashionTest / k, RandomStreams.Key(seed, "zoo.draw.test", 0, spec.Name));
        return (Take(src.FashionTrainImages, src.FashionTrainLabels, trainIdx, spec),
                Take(src.FashionTrainImages, src.FashionTrainLabels, valIdx, spec),
                Take(src.FashionTestImages, src.FashionTestLabels, testIdx, spec));
    }

    private static int[] TaskLabels(int[] sourceLabels, int[] relabel) => sourceLabels.Select(y => relabel[y]).ToArray();

    private static int[] Balanced(int[] sourceLabels, int[] relabel, int k, int perClass, ulong seed)
    {
        var taskLabels = TaskLabels(sourceLabels, relabel);
        var kept = Enumerable.Range(0, taskLabels.Length).Where(i => taskLabels[i] >= 0).ToArray();
        var idx = FewShotSampler.Sample(kept.Select(i => taskLabels[i]).ToArray(), k, perClass, seed);
        return idx.Select(i => kept[i]).Order().ToArray();
    }

    private static (int[] Train, int[] Validation) BalancedTrainValidation(int[] sourceLabels, int[] relabel, int k, int trainPerClass, int valPerClass, ulong seed)
    {
        var taskLabels = TaskLabels(sourceLabels, relabel);
        var kept = Enumerable.Range(0, taskLabels.Length).Where(i => taskLabels[i] >= 0).ToArray();
        int per = trainPerClass + valPerClass;
        var idx = FewShotSampler.Sample(kept.Select(i => taskLabels[i]).ToArray(), k, per, seed); // grouped by class, shuffled
        var train = new List<int>(); var val = new List<int>();
        for (int c = 0; c < k; c++)
            for (int j = 0; j < per; j++) (j < valPerClass ? val : train).Add(kept[idx[c * per + j]]);
        return (train.Order().ToArray(), val.Order().ToArray());
    }

    private static ByteImages Take(byte[] images, int[] labels, IReadOnlyList<int> indices, VisionTaskSpec spec)
    {
        const int p = VisionZooSources.Pixels;
        var keep = indices.Where(i => spec.Relabel[labels[i]] >= 0).ToArray();
        var outImages = new byte[keep.Length * p];
        var outLabels = new int[keep.Length];
        for (int n = 0; n < keep.Length; n++)
        {
            int i = keep[n];
            var src = images.AsSpan(i * p, p);
            var dst = outImages.AsSpan(n * p, p);
            switch (spec.Transform)
            {
                case VisionTransform.Rotate90:
                    const int s = VisionZooSources.ImageSize;
                    for (int r = 0; r < s; r++)
                        for (int c = 0; c < s; c++) dst[r * s + c] = src[c * s + (s - 1 - r)]; // numpy.rot90(img, 1)
                    break;
                case VisionTransform.Invert:
                    for (int j = 0; j < p; j++) dst[j] = (byte)(255 - src[j]);
                    break;
                default:
                    src.CopyTo(dst);
                    break;
            }
            outLabels[n] = spec.Relabel[labels[i]];
        }
        return new ByteImages(outImages, outLabels);
    }
}
