/* fx_trust.c — parsing and matching of trusted address ranges (see
 * fx_trust.h).  Pure: APR only. */
#include <string.h>
#include <apr_strings.h>
#include "fx_trust.h"

struct fx_trust_list {
    apr_array_header_t *subnets;        /* apr_ipsubnet_t * */
};

fx_trust_list *fx_trust_make(apr_pool_t *p)
{
    fx_trust_list *l = apr_palloc(p, sizeof(*l));
    l->subnets = apr_array_make(p, 4, sizeof(apr_ipsubnet_t *));
    return l;
}

const char *fx_trust_add(fx_trust_list *l, apr_pool_t *p, const char *spec)
{
    char *ip = apr_pstrdup(p, spec ? spec : "");
    char *mask = strchr(ip, '/');
    apr_ipsubnet_t *sub;
    apr_status_t rv;
    const char *s;

    if (mask) {
        *mask++ = '\0';
        if (!*mask) {
            return apr_psprintf(p, "'%s': empty prefix length after '/'",
                                spec);
        }
    }
    /* apr_ipsubnet_create would accept "10.1" as 10.1.0.0/16 the way
     * Require ip does; demand full addresses so a typo is not a range. */
    if (!*ip || !(strchr(ip, ':')
                  || strspn(ip, "0123456789.") == strlen(ip))) {
        return apr_psprintf(p, "'%s' is not an IPv4 or IPv6 address or "
                            "CIDR range (or expr=...)", spec);
    }
    if (!strchr(ip, ':')) {
        int dots = 0;
        for (s = ip; *s; s++) {
            dots += *s == '.';
        }
        if (dots != 3) {
            return apr_psprintf(p, "'%s': write the IPv4 address in full "
                                "(four parts), e.g. 10.0.0.0/8", spec);
        }
    }
    rv = apr_ipsubnet_create(&sub, ip, mask, p);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "'%s' is not a valid address or CIDR range",
                            spec);
    }
    APR_ARRAY_PUSH(l->subnets, apr_ipsubnet_t *) = sub;
    return NULL;
}

fx_trust_list *fx_trust_loopback(apr_pool_t *p)
{
    fx_trust_list *l = fx_trust_make(p);
    fx_trust_add(l, p, "127.0.0.0/8");
#if APR_HAVE_IPV6
    fx_trust_add(l, p, "::1");
#endif
    return l;
}

int fx_trust_count(const fx_trust_list *l)
{
    return l ? l->subnets->nelts : 0;
}

int fx_trust_match(const fx_trust_list *l, apr_sockaddr_t *sa)
{
    int i;
    if (!l || !sa) {
        return 0;
    }
    for (i = 0; i < l->subnets->nelts; i++) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(l->subnets, i, apr_ipsubnet_t *),
                              sa)) {
            return 1;
        }
    }
    return 0;
}

const char *fx_trust_forwarded_by(const apr_table_t *headers_in)
{
    /* RFC 7239, the de-facto X-Forwarded-For / X-Real-IP (nginx, haproxy,
     * Varnish, mod_proxy) and RFC 9110's Via (mod_proxy with ProxyVia,
     * Varnish, Squid).  An empty value counts: the header was sent. */
    static const char *const names[] = {
        "Forwarded", "X-Forwarded-For", "Via", "X-Real-IP"
    };
    apr_size_t i;
    if (!headers_in) {
        return NULL;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (apr_table_get(headers_in, names[i])) {
            return names[i];
        }
    }
    return NULL;
}
