using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SoftRound.Tf.Entropy;

/// <summary>
/// A set of quantized CDF tables for <see cref="RansEncoder"/> and <see cref="RansDecoder"/>: table j codes the values
/// v = symbol − offset[j] ∈ [0, n_j) with frequencies cdf[j][v + 1] − cdf[j][v] out of 2¹⁶, and its last entry
/// (v = n_j, the tail) is the escape that lets every other integer be coded with bypass digits.
/// </summary>
/// <remarks>
/// CompressAI passes the same data as three lists (<c>cdfs</c>, <c>cdf_lengths</c>, <c>offsets</c>); tensorflow_compression
/// as <c>cdf</c>, <c>cdf_offset</c> and <c>cdf_length</c>. A table of length m + 2 holds m regular values and the tail.
/// The tables are copied, so later changes to the arrays given do not reach them.
/// </remarks>
public sealed class QuantizedCdf
{
    /// <summary>The bits of a frequency: every table sums to 2¹⁶.</summary>
    public const int Precision = 16;

    /// <summary>The total 2¹⁶ = 65536 of every table.</summary>
    public const int Total = 1 << Precision;

    /// <summary>The bits of the decoder's lookup: a slot's top bits give the first candidate symbol.</summary>
    private const int LookupBits = 10;

    private readonly int[] cdf;
    private readonly int[] starts;
    private readonly int[] lengths;
    private readonly int[] offsets;
    private readonly ushort[] lookup;

    /// <summary>Validates and copies the tables.</summary>
    /// <param name="cdfs">
    /// One table per index: 0 first, 2¹⁶ last, strictly increasing (every value, the tail included, has a frequency
    /// ≥ 1), at least 3 entries (one regular value and the tail), at most 2¹⁶ + 1.
    /// </param>
    /// <param name="offsets">One offset per table: table j codes symbol s as the value s − offsets[j].</param>
    /// <exception cref="ArgumentNullException">An argument or a table is null.</exception>
    /// <exception cref="ArgumentException">There are no tables, the counts differ, or a table breaks the rules above (the message names it and the entry).</exception>
    public QuantizedCdf(IReadOnlyList<int[]> cdfs, IReadOnlyList<int> offsets)
    {
        const string Name = nameof(QuantizedCdf);
        ArgumentNullException.ThrowIfNull(cdfs, nameof(cdfs));
        ArgumentNullException.ThrowIfNull(offsets, nameof(offsets));
        if (cdfs.Count == 0) throw new ArgumentException($"{Name}: {nameof(cdfs)} is empty; give at least one table.", nameof(cdfs));
        if (offsets.Count != cdfs.Count)
        {
            throw new ArgumentException($"{Name}: {nameof(offsets)} has {offsets.Count} entries for {cdfs.Count} tables.", nameof(offsets));
        }
        int count = cdfs.Count;
        starts = new int[count];
        lengths = new int[count];
        this.offsets = new int[count];
        long total = 0;
        for (int j = 0; j < count; j++)
        {
            int[] table = cdfs[j] ?? throw new ArgumentNullException(nameof(cdfs), $"{Name}: {nameof(cdfs)}[{j}] is null.");
            Validate(table, j);
            starts[j] = (int)total;
            lengths[j] = table.Length;
            this.offsets[j] = offsets[j];
            total += table.Length;
        }
        cdf = new int[total];
        lookup = new ushort[count << LookupBits];
        leastBits = new double[count];
        for (int j = 0; j < count; j++)
        {
            cdfs[j].CopyTo(cdf, starts[j]);
            BuildLookup(j);
            int largest = 0;
            for (int v = 1; v < cdfs[j].Length; v++) largest = Math.Max(largest, cdfs[j][v] - cdfs[j][v - 1]);
            // rANS can write a symbol in up to log2(1 + 2^16/2^31) ≈ 4.4e−5 bits less than −log2(f/2^16): 2^−13 covers it.
            leastBits[j] = Math.Max(0, -Math.Log2((double)largest / Total) - 1.0 / (1 << 13));
        }
    }

    private readonly double[] leastBits;

    /// <summary>A lower bound on the bits any stream spends on a symbol of table <paramref name="index"/> (its likeliest value's cost, less rANS's rounding).</summary>
    internal double LeastBits(int index) => leastBits[index];

    /// <summary>The number of tables.</summary>
    public int count => lengths.Length;

    /// <summary>The length of table <paramref name="index"/>: its regular values, plus the tail, plus one.</summary>
    public int length(int index) => lengths[index];

    /// <summary>The offset of table <paramref name="index"/>.</summary>
    public int offset(int index) => offsets[index];

    /// <summary>A copy of table <paramref name="index"/>.</summary>
    public int[] table(int index) => cdf.AsSpan(starts[index], lengths[index]).ToArray();

    /// <summary>
    /// The quantized CDF of the probabilities p = (pmf…, tailMass) normalised to sum to 1: frequencies
    /// f_i ≥ 1 with Σf_i = 2¹⁶, each near p_i·2¹⁶, adjusted one unit at a time where the expected code length
    /// −Σp_i·log2(f_i/2¹⁶) grows least; returns (0, f_0, f_0 + f_1, …, 2¹⁶), pmf.Length + 2 entries (CompressAI's
    /// <c>pmf_to_quantized_cdf</c>).
    /// </summary>
    /// <param name="pmf">The probabilities of the regular values: finite and ≥ 0; at least one, at most 2¹⁶ − 1.</param>
    /// <param name="tailMass">The probability of every value outside the table together: finite and ≥ 0.</param>
    /// <exception cref="ArgumentException">The lengths or values break the rules above, or all probabilities are 0.</exception>
    public static int[] pmf_to_quantized_cdf(ReadOnlySpan<double> pmf, double tailMass)
    {
        const string Name = nameof(QuantizedCdf) + "." + nameof(pmf_to_quantized_cdf);
        if (pmf.Length is 0 or >= Total)
        {
            throw new ArgumentException($"{Name}: {nameof(pmf)} has {pmf.Length} entries; expected 1 to {Total - 1}.", nameof(pmf));
        }
        int n = pmf.Length + 1;
        var p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double value = i < pmf.Length ? pmf[i] : tailMass;
            CheckProbability(Name, i, pmf.Length, value);
            p[i] = value;
            sum += value;
        }
        if (!(sum > 0) || !double.IsFinite(sum)) throw new ArgumentException($"{Name}: the probabilities sum to {sum.ToString(CultureInfo.InvariantCulture)}; expected a finite value > 0.", nameof(pmf));
        var freq = new int[n];
        long assigned = 0;
        for (int i = 0; i < n; i++)
        {
            p[i] /= sum;
            freq[i] = (int)Math.Max(1, Math.Min(Total, Math.Round(p[i] * Total)));
            assigned += freq[i];
        }
        // Greedy repair: each unit goes where it lowers the expected length most, or is taken where that costs least.
        if (assigned != Total) Repair(p, freq, assigned < Total ? +1 : -1, (int)Math.Abs(Total - assigned));
        var result = new int[n + 1];
        for (int i = 0; i < n; i++) result[i + 1] = result[i] + freq[i];
        return result;
    }

    /// <summary>
    /// CompressAI's <c>pmf_to_quantized_cdf</c>, bit for bit, so that tables built here equal CompressAI's: the
    /// probabilities (pmf…, tailMass) in float32 become f_i = round(p_i·2¹⁶), rescaled by ⌊2¹⁶·f_i / Σf⌋ and summed, the
    /// last entry set to 2¹⁶; then each value left with frequency 0 takes one unit from the least frequent value with
    /// more than one, by shifting the entries between the two. Returns pmf.Length + 2 entries, as
    /// <see cref="pmf_to_quantized_cdf"/>.
    /// </summary>
    /// <remarks>
    /// The result can code worse than <see cref="pmf_to_quantized_cdf"/>'s (the rounding ignores the code length), which
    /// is why the library's own tables use that one; this one is for streams CompressAI must read.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// A probability is negative or not finite, all round to 0, there are more than 2¹⁶ − 1 values, or no value has a
    /// unit to give (CompressAI asserts there).
    /// </exception>
    public static int[] pmf_to_quantized_cdf_compressai(ReadOnlySpan<float> pmf, float tailMass)
    {
        const string Name = nameof(QuantizedCdf) + "." + nameof(pmf_to_quantized_cdf_compressai);
        if (pmf.Length is 0 or >= Total)
        {
            throw new ArgumentException($"{Name}: {nameof(pmf)} has {pmf.Length} entries; expected 1 to {Total - 1}.", nameof(pmf));
        }
        int n = pmf.Length + 1;
        var cdf = new long[n + 1];
        long total = 0;
        for (int i = 0; i < n; i++)
        {
            float p = i < pmf.Length ? pmf[i] : tailMass;
            CheckProbability(Name, i, pmf.Length, p);
            // std::round on the float product (exact: a power of two), half away from zero.
            cdf[i + 1] = (long)MathF.Round(p * Total, MidpointRounding.AwayFromZero);
            total += cdf[i + 1];
        }
        if (total == 0) throw new ArgumentException($"{Name}: every probability rounds to 0 in 16 bits.", nameof(pmf));
        for (int i = 1; i <= n; i++) cdf[i] = Total * cdf[i] / total;
        for (int i = 1; i <= n; i++) cdf[i] += cdf[i - 1];
        cdf[n] = Total;
        for (int i = 0; i < n; i++)
        {
            if (cdf[i] != cdf[i + 1]) continue;
            long best = long.MaxValue;
            int steal = -1;
            for (int j = 0; j < n; j++)
            {
                long f = cdf[j + 1] - cdf[j];
                if (f > 1 && f < best)
                {
                    best = f;
                    steal = j;
                }
            }
            if (steal < 0) throw new ArgumentException($"{Name}: {n} values cannot each have a frequency ≥ 1 out of 2^16.", nameof(pmf));
            if (steal < i)
            {
                for (int j = steal + 1; j <= i; j++) cdf[j]--;
            }
            else
            {
                for (int j = i + 1; j <= steal; j++) cdf[j]++;
            }
        }
        return Array.ConvertAll(cdf, v => (int)v);
    }

    /// <summary>Throws unless probability <paramref name="i"/> (the tail when i = <paramref name="pmfLength"/>) is finite and ≥ 0.</summary>
    private static void CheckProbability(string member, int i, int pmfLength, double value)
    {
        if (double.IsFinite(value) && value >= 0) return;
        string param = i < pmfLength ? $"pmf[{i}]" : "tailMass";
        throw new ArgumentException($"{member}: {param} is {value.ToString(CultureInfo.InvariantCulture)}; expected a finite value ≥ 0.", i < pmfLength ? "pmf" : "tailMass");
    }

    /// <summary>
    /// Changes the frequencies by <paramref name="step"/> <paramref name="units"/> times, each time where −Σp·log f
    /// changes most favourably (a heap of the next change's gain per value); frequencies stay ≥ 1.
    /// </summary>
    private static void Repair(double[] p, int[] freq, int step, int units)
    {
        var heap = new PriorityQueue<int, double>();
        for (int i = 0; i < p.Length; i++) Push(i);
        for (int u = 0; u < units; u++)
        {
            int i = heap.Dequeue();
            freq[i] += step;
            Push(i);
        }

        // The heap gives the least priority first, so a gain enters negated.
        void Push(int i)
        {
            if (freq[i] + step >= 1) heap.Enqueue(i, -p[i] * Math.Log((double)(freq[i] + step) / freq[i]));
        }
    }

    /// <summary>The start cdf[v] and frequency cdf[v + 1] − cdf[v] of value <paramref name="value"/> in table <paramref name="index"/>.</summary>
    internal (uint start, uint freq) Interval(int index, int value)
    {
        int at = starts[index] + value;
        return ((uint)cdf[at], (uint)(cdf[at + 1] - cdf[at]));
    }

    /// <summary>
    /// The value v of table <paramref name="index"/> with cdf[v] ≤ <paramref name="slot"/> &lt; cdf[v + 1], through the
    /// lookup. The decoder's inner loop: it reads without bounds checks, which is safe for an index in [0, count) (the
    /// callers check every index first) and a slot below 2¹⁶: the lookup starts at or below the value, and the scan
    /// stops at the latest at the table's last entry, 2¹⁶.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Find(int index, uint slot, out uint start, out uint freq)
    {
        ref int table = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(cdf), Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(starts), index));
        int v = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(lookup), (index << LookupBits) + (int)(slot >> (Precision - LookupBits)));
        uint next;
        while ((next = (uint)Unsafe.Add(ref table, v + 1)) <= slot) v++;
        start = (uint)Unsafe.Add(ref table, v);
        freq = next - start;
        return v;
    }

    /// <summary><see cref="length"/> − 2 (the escape's value) and <see cref="offset"/> of table <paramref name="index"/>, unchecked: for the decoder, whose indexes are checked first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal (int escape, int offset) EscapeAndOffset(int index) =>
        (Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(lengths), index) - 2, Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(offsets), index));

    /// <summary>The same value as <see cref="Find"/>, by a linear search from value 0 (CompressAI's way): the reference the lookup is tested against.</summary>
    internal int FindLinear(int index, uint slot, out uint start, out uint freq)
    {
        ReadOnlySpan<int> table = cdf.AsSpan(starts[index], lengths[index]);
        int v = 0;
        while ((uint)table[v + 1] <= slot) v++;
        start = (uint)table[v];
        freq = (uint)(table[v + 1] - table[v]);
        return v;
    }

    /// <summary>lookup[b] = the value v with cdf[v] ≤ b·2^(16 − LookupBits) &lt; cdf[v + 1].</summary>
    private void BuildLookup(int index)
    {
        ReadOnlySpan<int> table = cdf.AsSpan(starts[index], lengths[index]);
        Span<ushort> target = lookup.AsSpan(index << LookupBits, 1 << LookupBits);
        int v = 0;
        for (int b = 0; b < target.Length; b++)
        {
            int slot = b << (Precision - LookupBits);
            while (table[v + 1] <= slot) v++;
            target[b] = (ushort)v;
        }
    }

    private static void Validate(int[] table, int index)
    {
        const string Name = nameof(QuantizedCdf);
        string param = $"cdfs[{index}]";
        if (table.Length < 3 || table.Length > Total + 1)
        {
            throw new ArgumentException($"{Name}: {param} has {table.Length} entries; expected 3 to {Total + 1} (the regular values, the tail and one).", "cdfs");
        }
        if (table[0] != 0) throw new ArgumentException($"{Name}: {param}[0] is {table[0]}; expected 0.", "cdfs");
        if (table[^1] != Total) throw new ArgumentException($"{Name}: {param}[{table.Length - 1}] is {table[^1]}; expected {Total}.", "cdfs");
        for (int i = 1; i < table.Length; i++)
        {
            if (table[i] <= table[i - 1])
            {
                throw new ArgumentException($"{Name}: {param}[{i}] is {table[i]}, not above {param}[{i - 1}] = {table[i - 1]}; every value needs a frequency ≥ 1.", "cdfs");
            }
        }
    }
}
