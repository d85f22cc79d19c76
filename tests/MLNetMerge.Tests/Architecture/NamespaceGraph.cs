using Mono.Cecil;
using Mono.Cecil.Cil;

namespace MLNetMerge.Tests.Architecture;

/// <summary>
/// Which namespaces of an assembly use which, read from the compiled code (base types, interfaces, fields, signatures,
/// locals, and every type, method and field a method body references), so a dependency hidden in a method body or an
/// implicit parent-namespace lookup counts like a <c>using</c>. Each edge keeps the type pairs that make it.
/// </summary>
internal sealed class NamespaceGraph
{
    private readonly Dictionary<(string From, string To), SortedSet<string>> _edges = new();

    private NamespaceGraph() { }

    /// <summary>The edges between distinct layers (the layer function of <see cref="Read"/> maps a namespace to its layer name, or null to
    /// ignore it), each with the <c>Type->Type</c> pairs behind it.</summary>
    public IReadOnlyDictionary<(string From, string To), SortedSet<string>> Edges => _edges;

    public static NamespaceGraph Read(string assemblyPath, Func<string, string?> layerOf)
    {
        var graph = new NamespaceGraph();
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath);
        var module = assembly.MainModule;
        foreach (var type in module.GetTypes())
        {
            var owner = Outermost(type);
            if (layerOf(owner.Namespace) is not { } from) continue;
            void Add(TypeReference? reference)
            {
                while (reference is TypeSpecification spec)
                {
                    if (reference is GenericInstanceType generic) foreach (var argument in generic.GenericArguments) Add(argument);
                    reference = spec.ElementType;
                }
                if (reference is null or GenericParameter) return;
                var target = reference;
                while (target.DeclaringType is not null) target = target.DeclaringType;
                if (target.Scope is not ModuleDefinition && target.Scope?.Name != module.Name) return;   // other assemblies
                if (layerOf(target.Namespace) is not { } to || to == from) return;
                if (!graph._edges.TryGetValue((from, to), out var pairs)) graph._edges[(from, to)] = pairs = new(StringComparer.Ordinal);
                pairs.Add($"{owner.Name}->{target.Name}");
            }
            Add(type.BaseType);
            foreach (var i in type.Interfaces) Add(i.InterfaceType);
            foreach (var f in type.Fields) Add(f.FieldType);
            foreach (var p in type.Properties) Add(p.PropertyType);
            foreach (var m in type.Methods)
            {
                Add(m.ReturnType);
                foreach (var p in m.Parameters) Add(p.ParameterType);
                if (!m.HasBody) continue;
                foreach (var v in m.Body.Variables) Add(v.VariableType);
                foreach (var instruction in m.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t: Add(t); break;
                        case MethodReference r:
                            Add(r.DeclaringType);
                            Add(r.ReturnType);
                            foreach (var p in r.Parameters) Add(p.ParameterType);
                            break;
                        case FieldReference f: Add(f.DeclaringType); Add(f.FieldType); break;
                    }
                }
            }
        }
        return graph;
    }

    private static TypeDefinition Outermost(TypeDefinition type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }
}
