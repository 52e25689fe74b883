/* fx_compat.h — mod_access_compat's Order/Allow/Deny decision, re-done over
 * the shadow records of the section in effect so the explanation can name
 * the Allow or Deny line (and the word on it) that matched the client, or
 * say that none matched and what Order then implies.
 *
 * Pure: APR only, unit tested in tests/unit/test_authz.c.  Matching follows
 * mod_access_compat: "from" then words; env=NAME, env=!NAME, all, an IP
 * address or network (a.b.c.d/nn, a.b.c.d/m.m.m.m, partial a.b), else a
 * host-name suffix matched on whole labels against the double-reverse
 * resolved client name. */
#ifndef FX_COMPAT_H
#define FX_COMPAT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_network_io.h>

enum { FX_CM_DENY_ALLOW = 0, FX_CM_ALLOW_DENY = 1, FX_CM_MUTUAL = 2 };
enum { FX_CM_ENV, FX_CM_NENV, FX_CM_ALL, FX_CM_IP, FX_CM_HOST };

typedef struct {
    int type;
    const char *word;       /* as written, e.g. "10.0.0.0/8", "env=!ok" */
    const char *name;       /* env variable or host suffix */
    apr_ipsubnet_t *ip;
} fx_cm_item;

/* What the client looks like to mod_access_compat.  host() is asked only
 * when a host word is reached; it returns the verified name or NULL. */
typedef struct {
    apr_sockaddr_t *addr;
    const char *(*env)(void *baton, const char *name);
    const char *(*host)(void *baton);
    void *baton;
} fx_cm_client;

/* "allow,deny" etc. (case-insensitive) -> FX_CM_*, or -1. */
int fx_cm_order_parse(const char *arg);
const char *fx_cm_order_name(int order);

/* The words of an Allow/Deny line's arguments ("from a b"), NULL when the
 * line is not one mod_access_compat accepts. */
apr_array_header_t *fx_cm_parse(apr_pool_t *p, const char *args);

/* mod_access_compat's in_domain(): does what end in domain on a label
 * boundary? */
int fx_cm_in_domain(const char *domain, const char *what);

/* Index of the first item that matches the client, -1 if none.  *host_state
 * caches the host look-up across calls (start at 0). */
int fx_cm_first_match(const apr_array_header_t *items, const fx_cm_client *c,
                      int *host_state, const char **host);

/* The decision of check_dir_access: 1 when the client is denied. */
int fx_cm_denied(int order, int allow_matched, int deny_matched);

#endif
