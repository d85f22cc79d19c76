using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MLNetMerge.Alignment;
using MLNetMerge.Merging;

namespace MLNetMerge.Tests.Api;

/// <summary>Issue 13 item 4: every merge method and alignment stage has a public Options class, and each class is its
/// registry declaration seen from C#: one property per declared parameter (by its recipe name), the declared default as
/// the property's initial value, and the same default in the property's XML doc ("Default 0.2.").</summary>
[TestClass]
public sealed class OptionsDeclarationTests
{
    private static readonly Assembly Library = typeof(global::MLNetMerge.MergeOptions).Assembly;

    private static IEnumerable<Type> OptionsClasses(Type root) => Library.GetExportedTypes()
        .Where(t => t.IsSubclassOf(root) && !t.IsAbstract && t != typeof(global::MLNetMerge.NamedMethodOptions));

    private static string MethodName(object options) => (string)options.GetType()
        .GetProperty("MethodName", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(options)!;

    [TestMethod]
    public void EveryMergeMethodHasAnOptionsClassMatchingItsDeclaration()
    {
        var covered = new HashSet<string>();
        foreach (var type in OptionsClasses(typeof(global::MLNetMerge.MergeOptions)))
        {
            var options = Activator.CreateInstance(type)!;
            string name = MethodName(options);
            covered.Add(name);
            Check(type, options, MergeMethods.Find(name).Method.Parameters);
        }
        var missing = MergeMethods.All.Select(m => m.Name).Where(n => !covered.Contains(n)).ToList();
        Assert.IsEmpty(missing, "merge methods without an Options class: " + string.Join(", ", missing));
    }

    [TestMethod]
    public void EveryAlignmentStageHasAnOptionsClassMatchingItsDeclaration()
    {
        var covered = new HashSet<string>();
        foreach (var type in OptionsClasses(typeof(global::MLNetMerge.AlignmentOptions)))
        {
            var options = Activator.CreateInstance(type)!;
            string name = MethodName(options);
            covered.Add(name);
            Check(type, options, AlignmentMethods.Find(name).Parameters);
            if (options is global::MLNetMerge.TintingOptions tinting)
            {
                // Tinting++ is Tinting's options with PlusPlus set: the same properties over its own declaration.
                tinting.PlusPlus = true;
                covered.Add(MethodName(tinting));
                Check(type, new global::MLNetMerge.TintingOptions { PlusPlus = true }, AlignmentMethods.Find(MethodName(tinting)).Parameters);
            }
        }
        var missing = AlignmentMethods.All.Select(m => m.Name).Where(n => !covered.Contains(n)).ToList();
        Assert.IsEmpty(missing, "alignment stages without an Options class: " + string.Join(", ", missing));
    }

    private static void Check(Type type, object options, IReadOnlyList<MethodParameter> declared)
    {
        var docs = XmlDocs.Value;
        var properties = type.GetProperties()
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<global::MLNetMerge.RecipeParameterAttribute>()))
            .Where(x => x.Attribute is not null).ToDictionary(x => x.Attribute!.Name, x => x.Property);
        foreach (var name in properties.Keys)
            Assert.IsTrue(declared.Any(d => d.Name == name), $"{type.Name}: '{name}' is not a declared parameter");
        foreach (var parameter in declared)
        {
            if (parameter.PerModel)
            {
                // Per-model parameters (a weight per task) are MergeOptions.Weights, keyed by task.
                Assert.IsTrue(options is global::MLNetMerge.MergeOptions, $"{type.Name}: per-model '{parameter.Name}' outside a merge");
                continue;
            }
            Assert.IsTrue(properties.TryGetValue(parameter.Name, out var property), $"{type.Name} has no property for declared parameter '{parameter.Name}'");
            object? value = property.GetValue(options);
            string? summary = docs.GetValueOrDefault($"P:{type.FullName}.{property.Name}");
            Assert.IsNotNull(summary, $"{type.Name}.{property.Name} has no XML doc");
            if (value is null) continue; // a null default defers to the method (its doc says what applies)
            switch (value)
            {
                case double d:
                    Assert.AreEqual(parameter.Default, d, $"{type.Name}.{property.Name} default");
                    Assert.AreEqual(parameter.Default, DocumentedNumber(summary, type, property), 1e-12, $"{type.Name}.{property.Name} documented default");
                    break;
                case int i:
                    Assert.AreEqual(parameter.Default, i, $"{type.Name}.{property.Name} default");
                    Assert.AreEqual(parameter.Default, DocumentedNumber(summary, type, property), $"{type.Name}.{property.Name} documented default");
                    break;
                case bool b:
                    Assert.AreEqual(parameter.Default != 0, b, $"{type.Name}.{property.Name} default");
                    break;
                case Enum e:
                    Assert.AreEqual(parameter.DefaultChoice, global::MLNetMerge.Declared.Word(e), $"{type.Name}.{property.Name} default");
                    StringAssert.Contains(summary, $"Default {e}", $"{type.Name}.{property.Name} documented default");
                    break;
                default:
                    Assert.Fail($"{type.Name}.{property.Name}: unexpected option type {value.GetType().Name}");
                    break;
            }
        }
    }

    private static double DocumentedNumber(string summary, Type type, PropertyInfo property)
    {
        var m = Regex.Match(summary, @"Default (-?[0-9][0-9.eE+-]*)");
        Assert.IsTrue(m.Success, $"{type.Name}.{property.Name}: its doc states no default: \"{summary}\"");
        return double.Parse(m.Groups[1].Value.TrimEnd('.'), CultureInfo.InvariantCulture);
    }

    /// <summary>Member id → summary text (cref targets reduced to their last name) of the library's XML documentation.</summary>
    private static readonly Lazy<Dictionary<string, string>> XmlDocs = new(() =>
    {
        string path = Path.ChangeExtension(Library.Location, ".xml");
        return XDocument.Load(path).Descendants("member").Where(m => m.Element("summary") is not null).ToDictionary(
            m => (string)m.Attribute("name")!,
            m => string.Concat(m.Element("summary")!.Nodes().Select(n => n is XElement { Name.LocalName: "see" } see
                ? ((string?)see.Attribute("cref"))?.Split('.').Last() ?? see.Value
                : n is XElement el ? el.Value : n.ToString())).Replace('\n', ' '));
    });
}
