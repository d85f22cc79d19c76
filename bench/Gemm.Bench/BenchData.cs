/// <summary>Seeded operands for the benchmarks: values uniform in [−1, 1).</summary>
internal static class BenchData
{
    internal static float[] Floats(int length, int seed)
    {
        var x = new float[length];
        var rng = new Random(seed);
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    internal static double[] Doubles(int length, int seed)
    {
        var x = new double[length];
        var rng = new Random(seed);
        for (int i = 0; i < length; i++) x[i] = rng.NextDouble() * 2 - 1;
        return x;
    }
}
