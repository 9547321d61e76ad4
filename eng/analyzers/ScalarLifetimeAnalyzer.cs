using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace SoftRound.Tf.Analyzers;

/// <summary>
/// SRTF001: a number that becomes a native TorchSharp object nothing keeps alive: converted implicitly to a
/// <c>Scalar</c> or a <c>Tensor</c> (<c>x.clamp_min(0)</c>, <c>where(c, x, 0.0)</c>), or converted inside TorchSharp
/// by the member called (<c>x * 0.5</c>, <c>1 - x</c>, <c>a + b</c>, which is <c>a.add(b, 1)</c>, <c>x.square()</c>,
/// which is <c>pow(2)</c>: every member of <see cref="TorchSharpTemporaries.Members"/>), or a module or optimizer whose
/// <c>forward</c> or <c>step</c> does so (<c>nn.LeakyReLU()</c>, <c>optim.Adam(…)</c>, flagged where made, since a
/// call through the base type cannot be told apart). TorchSharp 0.107 passes such a temporary's native handle to
/// libtorch and leaves the temporary to the finalizer, so a garbage collection during the call can free it while
/// libtorch reads it ("Expected false to be true" from c10::Scalar::toDouble). The library writes
/// <c>using Scalar s = 0.5.ToScalar();</c> (or a tensor it disposes), or a Scalar kept for the process, and passes
/// that to an overload that takes it (<c>a.add(b, one)</c>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScalarLifetimeAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The rule.</summary>
    public static readonly DiagnosticDescriptor Rule = new(
        "SRTF001",
        "A number becomes a native TorchSharp temporary",
        "'{0}' makes a TorchSharp {1} that nothing keeps alive during the native call; {2}",
        "Reliability",
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    /// <summary>
    /// <paramref name="method"/> as <see cref="TorchSharpTemporaries.Members"/> writes it: <c>Namespace.Type+Nested.name(ParameterType,…)</c>,
    /// its parameters' types by their metadata names as declared (a generic one's type parameter by name, an array's element type and <c>[]</c>, <c>&amp;</c> for ref).
    /// </summary>
    public static string Key(IMethodSymbol method)
    {
        IMethodSymbol declared = (method.ReducedFrom ?? method).OriginalDefinition;
        return TypeName(declared.ContainingType) + "." + declared.Name + "(" + string.Join(",", declared.Parameters.Select(p => ParameterTypeName(p.Type) + (p.RefKind == RefKind.None ? "" : "&"))) + ")";
    }

    private static string TypeName(INamedTypeSymbol type) => type.ContainingType is { } outer
        ? TypeName(outer) + "+" + type.MetadataName
        : (type.ContainingNamespace is { IsGlobalNamespace: false } space ? space.ToDisplayString() + "." : "") + type.MetadataName;

    private static string ParameterTypeName(ITypeSymbol type) =>
        type is IArrayTypeSymbol array ? ParameterTypeName(array.ElementType) + "[" + new string(',', array.Rank - 1) + "]" : type.MetadataName;

    /// <summary>The members a module or optimizer is called through, from its base type.</summary>
    private static readonly string[] ReachedLater = { "forward", "step" };

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            INamedTypeSymbol? scalar = start.Compilation.GetTypeByMetadataName("TorchSharp.Scalar");
            INamedTypeSymbol? tensor = start.Compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor");
            if (scalar is null || tensor is null) return;
            bool Native(ITypeSymbol? type) => SymbolEqualityComparer.Default.Equals(type, scalar) || SymbolEqualityComparer.Default.Equals(type, tensor);
            start.RegisterOperationAction(operation =>
            {
                var conversion = (IConversionOperation)operation.Operation;
                if (!conversion.IsImplicit || !conversion.Conversion.IsUserDefined || !Native(conversion.Type) || Native(conversion.Operand.Type)) return;
                operation.ReportDiagnostic(Diagnostic.Create(Rule, conversion.Syntax.GetLocation(), conversion.Operand.Syntax.ToString(), conversion.Type!.Name, "write 'using Scalar s = (...).ToScalar();' and pass s"));
            }, OperationKind.Conversion);
            var makers = new HashSet<string>(TorchSharpTemporaries.Members, StringComparer.Ordinal);
            bool Makes(IMethodSymbol? method) => method?.ContainingAssembly?.Name == "TorchSharp" && makers.Contains(Key(method));
            // A TorchSharp module or optimizer reached through a base type's forward or step (call(x), step()).
            // (the most derived forward or step decides: a subclass that overrides it outside TorchSharp is not flagged).
            bool MakesLater(ITypeSymbol? type) => ReachedLater.Any(name =>
            {
                for (INamedTypeSymbol? t = (type as INamedTypeSymbol)?.OriginalDefinition; t is not null; t = t.BaseType?.OriginalDefinition)
                {
                    IMethodSymbol[] declared = t.GetMembers(name).OfType<IMethodSymbol>().ToArray();
                    if (declared.Length > 0) return declared.Any(Makes);
                }
                return false;
            });
            start.RegisterOperationAction(operation =>
            {
                IOperation op = operation.Operation;
                (IMethodSymbol? method, ITypeSymbol? made) = op switch
                {
                    IBinaryOperation binary => (binary.OperatorMethod, null),
                    ICompoundAssignmentOperation compound => (compound.OperatorMethod, null),
                    IInvocationOperation invocation => (invocation.TargetMethod, invocation.Type),
                    IObjectCreationOperation creation => (creation.Constructor, creation.Type),
                    IPropertyReferenceOperation property => (property.Property.GetMethod, null),
                    _ => (null, null),
                };
                if (Makes(method))
                    operation.ReportDiagnostic(Diagnostic.Create(Rule, op.Syntax.GetLocation(), op.Syntax.ToString(), "Scalar inside TorchSharp (" + Key(method!) + " converts a number itself)", "pass every Scalar, kept, to an overload that takes it (a.add(b, one), x.mul(s))"));
                else if (MakesLater(made))
                    operation.ReportDiagnostic(Diagnostic.Create(Rule, op.Syntax.GetLocation(), op.Syntax.ToString(), "Scalar inside TorchSharp (the forward or step of " + made!.Name + " converts a number itself)", made.Name is "Adam" or "AdamW" or "SGD" ? "use SoftRound.Tf.Optim." + made.Name + ", which keeps them (the same steps)" : "use a module or optimizer that keeps its Scalars"));
            }, OperationKind.Binary, OperationKind.CompoundAssignment, OperationKind.Invocation, OperationKind.ObjectCreation, OperationKind.PropertyReference);
        });
    }
}
