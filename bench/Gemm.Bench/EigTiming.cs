using System.Diagnostics;
using MLNetMerge.Tensors.LinearAlgebra;

internal static class EigTiming
{
    internal static void Run()
    {
        foreach (int l in new[] { 124, 156 })
        {
            var rng = new GaussianRandom(3);
            var x = new float[l * 3 * l];
            rng.FillGaussian(x);
            var t = new double[l * l];
            for (int i = 0; i < l; i++) for (int j = 0; j < l; j++) { double s = 0; for (int p = 0; p < 3 * l; p++) s += (double)x[i * 3 * l + p] * x[j * 3 * l + p]; t[i * l + j] = s; }
            double Time(Action a) { a(); var sw = Stopwatch.StartNew(); for (int i = 0; i < 5; i++) a(); return sw.Elapsed.TotalMilliseconds / 5; }
            var vals = new double[l]; var vecs = new double[l * l];
            var v2 = new double[l * l]; var vals2 = new double[l];
            Console.WriteLine($"l={l} householder-ql {Time(() => HouseholderQlEigen.DecomposeInPlace((double[])t.Clone(), l, vals2, v2)):F2} ms");
            SymmetricEigen.DecomposeInPlace((double[])t.Clone(), l, vals, vecs);
            double dv = 0, dvec = 0; for (int j = 0; j < l; j++) { dv = Math.Max(dv, Math.Abs(vals[j] - vals2[j]) / vals[0]); double dot = 0; for (int i = 0; i < l; i++) dot += vecs[j * l + i] * v2[j * l + i]; dvec = Math.Max(dvec, 1 - Math.Abs(dot)); }
            Console.WriteLine($"  max |Δλ|/λ0 {dv:E2}, max 1−|cos| {dvec:E2}");
            Console.WriteLine($"l={l} jacobi-eig {Time(() => SymmetricEigen.DecomposeInPlace((double[])t.Clone(), l, vals, vecs)):F2} ms, tridiag-values {Time(() => TridiagonalEigenvalues.Compute((double[])t.Clone(), l)):F2} ms");
        }
    }
}
