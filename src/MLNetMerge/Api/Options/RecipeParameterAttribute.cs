namespace MLNetMerge;

/// <summary>Marks an options property as the value of the method's or stage's declared parameter of this recipe name.</summary>
/// <param name="name">The parameter's recipe name.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
internal sealed class RecipeParameterAttribute(string name) : Attribute
{
    /// <summary>The recipe name.</summary>
    public string Name { get; } = name;
}
