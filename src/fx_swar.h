/* fx_swar.h — byte tests on eight bytes at once ("SIMD within a register"),
 * for the scans every 403 runs over its kilobyte of output. */
#ifndef FX_SWAR_H
#define FX_SWAR_H

#include <string.h>
#include <apr.h>

#define FX_ONES  0x0101010101010101ULL
#define FX_HIGHS 0x8080808080808080ULL

/* Nonzero when some byte of v is zero / below n (n <= 0x80) / equal to c /
 * 0x80 or above. */
#define FX_HAS_ZERO(v)     (((v) - FX_ONES) & ~(v) & FX_HIGHS)
#define FX_HAS_LESS(v, n)  (((v) - FX_ONES * (n)) & ~(v) & FX_HIGHS)
#define FX_HAS_BYTE(v, c)  FX_HAS_ZERO((v) ^ (FX_ONES * (unsigned char)(c)))
#define FX_HAS_HIGH(v)     ((v) & FX_HIGHS)

/* For scans specialised by a constant argument at each call site. */
#if defined(__GNUC__)
#define FX_ALWAYS_INLINE APR_INLINE __attribute__((always_inline))
#else
#define FX_ALWAYS_INLINE APR_INLINE
#endif

static APR_INLINE apr_uint64_t fx_load8(const char *s)
{
    apr_uint64_t v;
    memcpy(&v, s, 8);           /* no alignment assumed */
    return v;
}

#endif
