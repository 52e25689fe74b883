/* fuzz_compat.c — libFuzzer target for the Order/Allow/Deny re-evaluation
 * (src/fx_compat.c): the argument parser of Allow/Deny lines (IP lists,
 * CIDR and netmask forms, partial addresses, env= words, host suffixes),
 * Order parsing and the label-boundary domain test, matched against a
 * client address, environment and host name taken from the input.
 * Oracles: parse results are well formed, a match index is in range, the
 * domain test agrees with a simple reference.
 * FUZZ_SOURCES: src/fx_compat.c */
#include "fuzz_util.h"
#include <apr_network_io.h>
#include "fx_compat.h"

static const char *fz_env_val;
static const char *fz_host_val;

static const char *fz_env(void *baton, const char *name)
{
    (void)baton;
    return (name[0] & 1) ? fz_env_val : NULL;
}

static const char *fz_host(void *baton)
{
    (void)baton;
    return fz_host_val;
}

/* in_domain() as documented: what equals domain, or ends in it where the
 * domain starts a label ('.' before it, or domain starting with '.'). */
static int fz_ref_in_domain(const char *domain, const char *what)
{
    size_t dl = strlen(domain), wl = strlen(what);
    if (wl < dl) {
        return 0;
    }
    if (strcasecmp(domain, what + wl - dl) != 0) {
        return 0;
    }
    return dl == wl || domain[0] == '.' || what[wl - dl - 1] == '.';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    char host[32];
    apr_sockaddr_t *sa = NULL;
    fx_cm_client c;
    apr_array_header_t *items;
    const char *args, *order, *hostname;
    int st = 0, idx, o, i;

    apr_snprintf(host, sizeof(host), "%u.%u.%u.%u", fz_byte(&in),
                 fz_byte(&in), fz_byte(&in), fz_byte(&in));
    apr_sockaddr_info_get(&sa, host, APR_INET, 0, 0, p);
    order = fz_slice(&in, p, NULL);
    fz_env_val = fz_slice(&in, p, NULL);
    fz_host_val = fz_slice(&in, p, NULL);
    if (!*fz_host_val) {
        fz_host_val = NULL;
    }
    args = fz_slice(&in, p, NULL);

    o = fx_cm_order_parse(order);
    FZ_ASSERT(o == -1 || o == FX_CM_DENY_ALLOW || o == FX_CM_ALLOW_DENY
              || o == FX_CM_MUTUAL);
    if (o >= 0) {
        FZ_ASSERT(fx_cm_order_name(o) != NULL);
        for (i = 0; i < 4; i++) {
            int dn = fx_cm_denied(o, i & 1, i >> 1);
            FZ_ASSERT(dn == 0 || dn == 1);
        }
    }
    if (fz_host_val) {
        FZ_ASSERT(!!fx_cm_in_domain(args, fz_host_val)
                  == fz_ref_in_domain(args, fz_host_val));
    }

    items = fx_cm_parse(p, args);
    if (!items || !sa) {
        return 0;
    }
    for (i = 0; i < items->nelts; i++) {
        const fx_cm_item *it = &APR_ARRAY_IDX(items, i, fx_cm_item);
        FZ_ASSERT(it->word != NULL);
        FZ_ASSERT(it->type >= FX_CM_ENV && it->type <= FX_CM_HOST);
        FZ_ASSERT(it->type != FX_CM_IP || it->ip != NULL);
    }
    c.addr = sa;
    c.env = fz_env;
    c.host = fz_host;
    c.baton = NULL;
    idx = fx_cm_first_match(items, &c, &st, &hostname);
    FZ_ASSERT(idx >= -1 && idx < items->nelts);
    /* asking again gives the same answer (the host look-up is cached) */
    FZ_ASSERT(fx_cm_first_match(items, &c, &st, &hostname) == idx);
    return 0;
}
