using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace SoftRound.Tf.Analyzers;

/// <summary>
/// SRTF001: a number that becomes a native TorchSharp object nothing keeps alive: converted implicitly to a
/// <c>Scalar</c> or a <c>Tensor</c> (<c>x.clamp_min(0)</c>, <c>where(c, x, 0.0)</c>), or an operand of a Tensor
/// operator (<c>x * 0.5</c>, <c>1 - x</c>, whose TorchSharp overload makes the Scalar itself). TorchSharp 0.107 passes
/// such a temporary's native handle to libtorch and leaves the temporary to the finalizer, so a garbage collection
/// during the call can free it while libtorch reads it ("Expected false to be true" from c10::Scalar::toDouble). The
/// library writes <c>using Scalar s = 0.5.ToScalar();</c> (or a tensor it disposes) and passes that instead. Also
/// <c>x.square()</c>, which TorchSharp writes as <c>pow(2)</c>: the same temporary, made inside TorchSharp.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScalarLifetimeAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The rule.</summary>
    public static readonly DiagnosticDescriptor Rule = new(
        "SRTF001",
        "A number becomes a native TorchSharp temporary",
        "'{0}' becomes a TorchSharp {1} that nothing keeps alive during the native call; write 'using Scalar s = (...).ToScalar();' and pass s",
        "Reliability",
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

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
                operation.ReportDiagnostic(Diagnostic.Create(Rule, conversion.Syntax.GetLocation(), conversion.Operand.Syntax.ToString(), conversion.Type!.Name));
            }, OperationKind.Conversion);
            start.RegisterOperationAction(operation =>
            {
                IMethodSymbol? method = operation.Operation switch
                {
                    IBinaryOperation binary => binary.OperatorMethod,
                    ICompoundAssignmentOperation compound => compound.OperatorMethod,
                    _ => null,
                };
                if (method is null || !SymbolEqualityComparer.Default.Equals(method.ContainingType, tensor)) return;
                IParameterSymbol? number = method.Parameters.FirstOrDefault(p => !Native(p.Type));
                if (number is null) return;
                operation.ReportDiagnostic(Diagnostic.Create(Rule, operation.Operation.Syntax.GetLocation(), operation.Operation.Syntax.ToString(), "Scalar"));
            }, OperationKind.Binary, OperationKind.CompoundAssignment);
            start.RegisterOperationAction(operation =>
            {
                // TorchSharp methods that make such a temporary themselves: Tensor.square() is pow(2).
                IMethodSymbol method = ((IInvocationOperation)operation.Operation).TargetMethod;
                if (method.Name != "square" || !SymbolEqualityComparer.Default.Equals(method.ContainingType, tensor) || method.Parameters.Length != 0) return;
                operation.ReportDiagnostic(Diagnostic.Create(Rule, operation.Operation.Syntax.GetLocation(), operation.Operation.Syntax.ToString(), "Scalar inside TorchSharp (square() is pow(2); multiply the tensor by itself, or pow a kept Scalar)"));
            }, OperationKind.Invocation);
        });
    }
}
