using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Analyzers;

namespace SoftRound.Tf.Tests.Analyzers;

[TestClass]
public sealed class ScalarLifetimeAnalyzerTests
{
    /// <summary>The source text of every SRTF001 the analyzer reports in a class holding <paramref name="body"/>.</summary>
    private static string[] Flagged(string body)
    {
        (string source, ImmutableArray<Diagnostic> found) = Analyzed(body);
        return found.OrderBy(d => d.Location.SourceSpan.Start).Select(d => source[d.Location.SourceSpan.Start..d.Location.SourceSpan.End]).ToArray();
    }

    /// <summary>A class holding <paramref name="body"/>, compiled with TorchSharp (or without it), and the analyzer's diagnostics.</summary>
    private static (string source, ImmutableArray<Diagnostic> found) Analyzed(string body, bool withTorchSharp = true)
    {
        string source = (withTorchSharp ? "using TorchSharp;\nusing static TorchSharp.torch;\n" : "") + "static class C\n{\n" + body + "\n}\n";
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        MetadataReference[] references = platform.Concat(withTorchSharp ? new[] { typeof(TorchSharp.torch).Assembly.Location } : Array.Empty<string>()).Distinct()
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToArray();
        CSharpCompilation compilation = CSharpCompilation.Create("snippet", new[] { CSharpSyntaxTree.ParseText(source) }, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Diagnostic[] errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.AreEqual(0, errors.Length, string.Join("\n", errors.Select(e => e.ToString())));
        ImmutableArray<Diagnostic> found = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new ScalarLifetimeAnalyzer()))
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        Assert.IsTrue(found.All(d => d.Id == "SRTF001" && d.Severity == DiagnosticSeverity.Error));
        return (source, found);
    }

    [TestMethod]
    public void NumbersThatBecomeTemporaryScalarsOrTensors_AreErrors()
    {
        string[] flagged = Flagged("""
            static Tensor M(Tensor x, double a, long n)
            {
                Tensor z = x * 0.5;
                Tensor w = 1 - x;
                Tensor c = x.clamp_min(a);
                x += 2;
                Tensor v = where(x.gt(0), x, zeros_like(x));
                Tensor r = arange(n, ScalarType.Int64);
                return z.mul(w).mul(c).mul(v).mul(r);
            }
            """);
        CollectionAssert.AreEqual(new[] { "x * 0.5", "1 - x", "a", "x += 2", "0", "arange(n, ScalarType.Int64)", "n" }, flagged);
    }

    [TestMethod]
    public void TensorSquare_WhichTorchSharpWritesAsPowOfTwo_IsAnError_ItsWrittenOutFormsAreNot()
    {
        string[] flagged = Flagged("""
            static readonly Scalar Two = 2L.ToScalar();
            static Tensor M(Tensor x)
            {
                Tensor a = x.square();
                Tensor b = x.mul(x);
                Tensor c = x.pow(Two);
                return a.mul(b).mul(c).square().sum();
            }
            """);
        CollectionAssert.AreEqual(new[] { "x.square()", "a.mul(b).mul(c).square()" }, flagged);
    }

    [TestMethod]
    public void ScalarsKeptInAVariable_TensorArithmetic_AndPlainNumbers_AreNot()
    {
        string[] flagged = Flagged("""
            static readonly Scalar Half = 0.5.ToScalar(), One = 1L.ToScalar(), Zero = 0L.ToScalar();
            static Tensor M(Tensor x, Tensor y, double a, Scalar n)
            {
                using Scalar s = a.ToScalar();
                double d = a * 2 + 1;
                using Scalar e = d.ToScalar();
                Tensor t = (x * s).add(y * Half, One).clamp_min(e) - x / y;
                t = t.add(arange(Zero, n, One, ScalarType.Float32), One).add_(s, One).sub(Half) - y;
                t -= x;
                return t.ge(s).logical_and(x.lt(Half)).to(ScalarType.Float32) * t;
            }
            """);
        Assert.AreEqual(0, flagged.Length, string.Join(", ", flagged));
    }

    [TestMethod]
    public void AddWithoutAlpha_WhichTorchSharpCallsWithATemporaryOne_IsAnError_WithAKeptAlphaItIsNot()
    {
        string[] flagged = Flagged("""
            static readonly Scalar One = 1L.ToScalar();
            static Tensor M(Tensor x, Tensor y, Scalar s)
            {
                Tensor a = x + y;
                Tensor b = x + s;
                Tensor c = s + x;
                Tensor d = s - x;
                Tensor e = x.add(y);
                x.add_(s);
                Tensor kept = x.add(y, One).add(s, One) - s - y;
                a += b;
                return a.mul(b).mul(c).mul(d).mul(e).mul(kept);
            }
            """);
        CollectionAssert.AreEqual(new[] { "x + y", "x + s", "s + x", "s - x", "x.add(y)", "x.add_(s)", "a += b" }, flagged);
    }

    [TestMethod]
    public void MembersThatConvertNumbersInside_AndModulesOrOptimizersWhoseForwardOrStepDoes_AreErrors()
    {
        string[] flagged = Flagged("""
            static readonly Scalar Slope = 0.01.ToScalar();
            sealed class Kept : TorchSharp.Modules.Adam
            {
                public Kept(System.Collections.Generic.IEnumerable<TorchSharp.Modules.Parameter> p) : base(p, 1e-3, 0.9, 0.999, 1e-8, 0, false, false) { }
                public override Tensor step(System.Func<Tensor> closure = null) => null;
            }
            static Tensor M(Tensor x, TorchSharp.Modules.Parameter[] p)
            {
                var relu = nn.LeakyReLU();
                var norm = nn.BatchNorm2d(4);
                var adam = optim.Adam(p, 1e-3);
                var kept = new Kept(p);
                var conv = nn.Conv2d(1, 1, 1);
                Tensor soft = nn.functional.softplus(x);
                Tensor mean = x.mean();
                return x.leaky_relu(Slope).mul(soft).mul(mean);
            }
            """);
        CollectionAssert.AreEqual(new[] { "nn.LeakyReLU()", "nn.BatchNorm2d(4)", "optim.Adam(p, 1e-3)", "nn.functional.softplus(x)" }, flagged);
    }

    [TestMethod]
    public void Messages_NameTheCode_WhatItMakes_AndTheRemedy()
    {
        Assert.AreEqual("A number becomes a native TorchSharp temporary", ScalarLifetimeAnalyzer.Rule.Title.ToString());
        Assert.AreEqual("Reliability", ScalarLifetimeAnalyzer.Rule.Category);
        (_, ImmutableArray<Diagnostic> found) = Analyzed("""
            static Tensor M(Tensor x, Tensor y, TorchSharp.Modules.Parameter[] p)
            {
                var relu = nn.LeakyReLU();
                var adam = optim.Adam(p);
                var sgd = optim.SGD(p, 0.1);
                return x.clamp_min(0.5) + y;
            }
            """);
        string[] messages = found.OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.GetMessage()).ToArray();
        CollectionAssert.AreEqual(new[]
        {
            "'nn.LeakyReLU()' makes a TorchSharp Scalar inside TorchSharp (the forward or step of LeakyReLU converts a number itself) that nothing keeps alive during the native call; use a module or optimizer that keeps its Scalars",
            "'optim.Adam(p)' makes a TorchSharp Scalar inside TorchSharp (the forward or step of Adam converts a number itself) that nothing keeps alive during the native call; use SoftRound.Tf.Optim.Adam, which keeps them (the same steps)",
            "'optim.SGD(p, 0.1)' makes a TorchSharp Scalar inside TorchSharp (the forward or step of SGD converts a number itself) that nothing keeps alive during the native call; use SoftRound.Tf.Optim.SGD, which keeps them (the same steps)",
            "'x.clamp_min(0.5) + y' makes a TorchSharp Scalar inside TorchSharp (TorchSharp.torch+Tensor.op_Addition(Tensor,Tensor) converts a number itself) that nothing keeps alive during the native call; pass every Scalar, kept, to an overload that takes it (a.add(b, one), x.mul(s))",
            "'0.5' makes a TorchSharp Scalar that nothing keeps alive during the native call; write 'using Scalar s = (...).ToScalar();' and pass s",
        }, messages);
    }

    [TestMethod]
    public void Key_WritesAMemberAsTheListDoes()
    {
        string source = """
            using System;
            static class E { public static void M(this int[,] grid, ref double d, string[] names) { } }
            static class F
            {
                static void N(int[,] g, double d)
                {
                    int.TryParse("1", out int parsed);
                    g.M(ref d, new[] { "a" });
                    "s".AsSpan();
                    string.Join(",", new[] { "a" });
                }
            }
            """;
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var tree = CSharpSyntaxTree.ParseText(source);
        CSharpCompilation compilation = CSharpCompilation.Create("keys", new[] { tree }, platform.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        SemanticModel model = compilation.GetSemanticModel(tree);
        string[] keys = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax>()
            .Select(i => ScalarLifetimeAnalyzer.Key((IMethodSymbol)model.GetSymbolInfo(i).Symbol!)).ToArray();
        CollectionAssert.AreEqual(new[]
        {
            "System.Int32.TryParse(String,Int32&)", "E.M(Int32[,],Double&,String[])", "System.MemoryExtensions.AsSpan(String)", "System.String.Join(String,String[])",
        }, keys);
    }

    [TestMethod]
    public void ACompilationWithoutTorchSharp_GetsNoDiagnostic()
    {
        (_, ImmutableArray<Diagnostic> found) = Analyzed("static double M(double x) => x * 0.5 + 1;", withTorchSharp: false);
        Assert.AreEqual(0, found.Length);
    }
}
