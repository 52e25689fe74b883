/* fuzz_trust.c — libFuzzer target for the ForbiddenExplainTrustedClients
 * address parser and matcher (src/fx_trust.c).  The input is a list of
 * specs and a client address.  Oracles: a spec is either added (count + 1)
 * or refused with a message that names it; an address is matched by a
 * list holding exactly that address; nothing matches an empty list.
 * FUZZ_SOURCES: src/fx_trust.c */
#include "fuzz_util.h"
#include <apr_network_io.h>
#include "fx_trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    fx_trust_list *l = fx_trust_make(p), *one;
    apr_sockaddr_t *sa = NULL;
    unsigned family = fz_byte(&in);
    char host[INET6_ADDRSTRLEN + 1];
    int n = 0, k;

    /* a client address from 4 or 16 raw bytes */
    if (family & 1) {
        unsigned char b[16];
        for (k = 0; k < 16; k++) {
            b[k] = (unsigned char)fz_byte(&in);
        }
        apr_snprintf(host, sizeof(host),
                     "%x:%x:%x:%x:%x:%x:%x:%x", b[0] << 8 | b[1],
                     b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7],
                     b[8] << 8 | b[9], b[10] << 8 | b[11], b[12] << 8 | b[13],
                     b[14] << 8 | b[15]);
        apr_sockaddr_info_get(&sa, host, APR_INET6, 0, APR_IPV4_ADDR_OK, p);
    }
    else {
        unsigned a = fz_byte(&in), b = fz_byte(&in), c = fz_byte(&in),
                 d = fz_byte(&in);
        apr_snprintf(host, sizeof(host), "%u.%u.%u.%u", a, b, c, d);
        apr_sockaddr_info_get(&sa, host, APR_INET, 0, 0, p);
    }

    FZ_ASSERT(!fx_trust_match(l, sa));
    FZ_ASSERT(!fx_trust_match(NULL, sa));
    while (in.n) {
        char *spec = fz_slice(&in, p, NULL);
        const char *err = fx_trust_add(l, p, spec);
        if (err) {
            FZ_ASSERT(*err);
        }
        else {
            n++;
        }
        FZ_ASSERT(fx_trust_count(l) == n);
        (void)fx_trust_match(l, sa);
    }

    if (sa) {
        one = fx_trust_make(p);
        FZ_ASSERT(fx_trust_add(one, p, host) == NULL);
        FZ_ASSERT(fx_trust_match(one, sa));
    }
    return 0;
}
