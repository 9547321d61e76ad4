using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Analyzers;
using TorchSharp;

namespace SoftRound.Tf.Tests.Analyzers;

[TestClass]
public sealed class TorchSharpTemporariesTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The methods and constructors each member's IL calls.</summary>
    private static List<MethodBase> Calls(MethodBase member)
    {
        var calls = new List<MethodBase>();
        byte[]? il = member.GetMethodBody()?.GetILAsByteArray();
        if (il is null) return calls;
        Type[]? typeArguments = member.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        Type[]? methodArguments = member.IsGenericMethod ? member.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            OpCode op = il[i] == 0xFE ? OpCodesByValue[(short)(0xFE00 | il[i + 1])] : OpCodesByValue[il[i]];
            i += op.Size;
            if (op.OperandType == OperandType.InlineMethod)
            {
                try { calls.Add(member.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArguments, methodArguments)!); }
                catch (ArgumentException) { } // a generic instantiation this scan cannot name: not a conversion to Scalar
            }
            i += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
        }
        return calls;
    }

    /// <summary>
    /// Reads TorchSharp's IL: a member that converts a number to a Scalar (<c>Scalar.op_Implicit</c> or a
    /// <c>ToScalar</c>) and never disposes a Scalar makes a temporary; so does every member that calls one. The public
    /// ones, written as the analyzer writes them.
    /// </summary>
    private static SortedSet<string> Scanned()
    {
        Assembly torchSharp = typeof(torch).Assembly;
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        Dictionary<MethodBase, List<MethodBase>> calls = torchSharp.GetTypes()
            .SelectMany(t => t.GetMethods(All).Cast<MethodBase>().Concat(t.GetConstructors(All)))
            .ToDictionary(m => m, Calls);
        bool Converts(MethodBase c) => c is MethodInfo m && m.ReturnType == typeof(Scalar) && (m.Name is "op_Implicit" or "ToScalar")
            && m.GetParameters() is [{ ParameterType: var from }, ..] && from != typeof(Scalar);
        var making = calls.Where(kv => kv.Key.DeclaringType != typeof(Scalar) && kv.Value.Any(Converts)
            && !kv.Value.Any(c => c.DeclaringType == typeof(Scalar) && c.Name == nameof(Scalar.Dispose))).Select(kv => kv.Key).ToHashSet();
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach ((MethodBase member, List<MethodBase> called) in calls)
                if (!making.Contains(member) && called.Any(making.Contains)) grew = making.Add(member);
        }
        return new SortedSet<string>(making.Where(m => m.IsPublic && m.DeclaringType is { } t && (t.IsPublic || t.IsNestedPublic))
            .Select(m => $"{m.DeclaringType!.FullName}.{m.Name}({string.Join(",", m.GetParameters().Select(p => p.ParameterType.Name))})"), StringComparer.Ordinal);
    }

    [TestMethod]
    public void TheList_IsWhatTorchSharpsILSays()
    {
        SortedSet<string> scanned = Scanned();
        string[] listed = TorchSharpTemporaries.Members;
        CollectionAssert.AreEqual(scanned.ToArray(), listed,
            $"missing: {string.Join("; ", scanned.Except(listed))}; not made: {string.Join("; ", listed.Except(scanned))}");
    }

    [TestMethod]
    public void TheList_HoldsTheMembersFoundByHand()
    {
        // Read in TorchSharp's source: add(other) is add(other, 1), square() is pow(2), Adam's step passes its betas,
        // BatchNorm counts batches with add_(1), LeakyReLU passes its slope; mul(Tensor) and sub(Tensor) make none.
        string[] expected =
        {
            "TorchSharp.torch+Tensor.add(Tensor)", "TorchSharp.torch+Tensor.op_Addition(Tensor,Tensor)",
            "TorchSharp.torch+Tensor.op_Subtraction(Scalar,Tensor)", "TorchSharp.torch+Tensor.square()",
            "TorchSharp.Modules.Adam.step(Func`1)", "TorchSharp.Modules.BatchNorm.forward(Tensor)", "TorchSharp.Modules.LeakyReLU.forward(Tensor)",
        };
        CollectionAssert.IsSubsetOf(expected, TorchSharpTemporaries.Members);
        string[] safe = { "TorchSharp.torch+Tensor.op_Subtraction(Tensor,Tensor)", "TorchSharp.torch+Tensor.op_Multiply(Tensor,Tensor)", "TorchSharp.torch+Tensor.sub(Tensor)", "TorchSharp.torch+Tensor.mul(Tensor)" };
        Assert.IsFalse(safe.Intersect(TorchSharpTemporaries.Members).Any());
    }
}
