using System.Reflection;
using Microsoft.ML;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// <c>SchemaShape.Create(DataViewSchema)</c> is internal in ML.NET 6.0.0 (an estimator chain calls it for its estimators);
/// the tests call it the same way to hand an estimator the shape a chain would.
/// </summary>
internal static class SchemaShapes
{
    private static readonly MethodInfo Create = typeof(SchemaShape).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Static, [typeof(DataViewSchema)])
        ?? throw new InvalidOperationException("SchemaShape.Create(DataViewSchema) not found in this ML.NET version.");

    public static SchemaShape Of(DataViewSchema schema) => (SchemaShape)Create.Invoke(null, [schema])!;
}
