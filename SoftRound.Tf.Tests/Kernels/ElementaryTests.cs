using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using SoftRound.Tf.Kernels;

namespace SoftRound.Tf.Tests.Kernels;

[TestClass]
public sealed class ElementaryTests
{
    [TestMethod]
    public void Expm1_ExactWhereExpRoundsToOneOrUnderflows()
    {
        // x itself where e^x rounds to 1, −1 where e^x underflows to 0, and Kahan's form in between.
        Assert.AreEqual(-1e-20, Elementary.Expm1(-1e-20));
        Assert.AreEqual(-1.0, Elementary.Expm1(-1000.0));
        Assert.AreEqual(-1f, Elementary.Expm1(-200f));
        Assert.AreEqual(Math.Exp(-0.25) - 1, Elementary.Expm1(-0.25), 2e-17);
        Assert.AreEqual(-0.6321205588285577, Elementary.Expm1(-1.0), 2e-16);
    }
}
