/*
 * The decoder benchmark's C baseline: byte-wise rANS with a 32-bit state, one static table of 16-bit frequencies and
 * a 2^16-entry slot-to-symbol table, as ryg_rans' rans_byte.h and its example program decode (ryg_rans is CC0; this
 * is this project's own code, written from the algorithm). One state, or two that take the symbols in turn.
 * Built by build.sh into build/librans_baseline.so; RansDecodeBenchmark calls it through P/Invoke.
 */
#include <stdint.h>
#include <string.h>

#define PRECISION 16
#define LOWER (1u << 23) /* the state stays in [2^23, 2^31): one byte at a time */

/* x ← C(x): emits low bytes while x would overflow, then x = ⌊x/f⌋·2^16 + x mod f + start. */
static inline void put(uint32_t *x, uint8_t **ptr, uint32_t start, uint32_t freq)
{
    uint32_t limit = ((LOWER >> PRECISION) << 8) * freq;
    uint32_t v = *x;
    while (v >= limit) {
        *--(*ptr) = (uint8_t)v;
        v >>= 8;
    }
    *x = ((v / freq) << PRECISION) + v % freq + start;
}

static inline void flush(uint32_t x, uint8_t **ptr)
{
    *ptr -= 4;
    memcpy(*ptr, &x, 4);
}

/* Encodes n byte symbols with the table cdf (nsym + 1 entries, 0 … 2^16) into out (capacity cap), from the end;
 * moves the stream to the start of out and returns its length. */
int rans_c_encode(const uint8_t *symbols, int n, const uint32_t *cdf, uint8_t *out, int cap, int interleaved)
{
    uint8_t *ptr = out + cap;
    uint32_t x0 = LOWER, x1 = LOWER;
    for (int i = n - 1; i >= 0; i--) {
        uint32_t start = cdf[symbols[i]], freq = cdf[symbols[i] + 1] - start;
        put(interleaved && (i & 1) ? &x1 : &x0, &ptr, start, freq);
    }
    if (interleaved) flush(x1, &ptr);
    flush(x0, &ptr);
    int length = (int)(out + cap - ptr);
    memmove(out, ptr, (size_t)length);
    return length;
}

/* lookup[s] = the symbol whose interval holds slot s. */
void rans_c_build_lookup(const uint32_t *cdf, int nsym, uint8_t *lookup)
{
    for (int v = 0; v < nsym; v++)
        for (uint32_t s = cdf[v]; s < cdf[v + 1]; s++) lookup[s] = (uint8_t)v;
}

static inline uint8_t take(uint32_t *x, const uint8_t **ptr, const uint32_t *cdf, const uint8_t *lookup)
{
    uint32_t v = *x, slot = v & ((1u << PRECISION) - 1);
    uint8_t s = lookup[slot];
    v = (cdf[s + 1] - cdf[s]) * (v >> PRECISION) + slot - cdf[s];
    while (v < LOWER) v = (v << 8) | *(*ptr)++;
    *x = v;
    return s;
}

/* Decodes n symbols; returns 0 when the stream ended where the encoder's did, in the states it started from. */
int rans_c_decode(const uint8_t *stream, uint8_t *out, int n, const uint32_t *cdf, const uint8_t *lookup, int interleaved)
{
    const uint8_t *ptr = stream;
    uint32_t x0, x1 = LOWER;
    memcpy(&x0, ptr, 4);
    ptr += 4;
    if (interleaved) {
        memcpy(&x1, ptr, 4);
        ptr += 4;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            out[i] = take(&x0, &ptr, cdf, lookup);
            out[i + 1] = take(&x1, &ptr, cdf, lookup);
        }
        if (i < n) out[i] = take(&x0, &ptr, cdf, lookup);
    } else {
        for (int i = 0; i < n; i++) out[i] = take(&x0, &ptr, cdf, lookup);
    }
    return x0 == LOWER && x1 == LOWER ? 0 : 1;
}
