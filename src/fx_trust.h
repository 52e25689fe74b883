/* fx_trust.h — the address part of ForbiddenExplainTrustedClients: a list
 * of IPv4/IPv6 addresses and CIDR ranges, parsed at configuration time and
 * matched against the address httpd's own `Require ip` tests
 * (r->useragent_addr, i.e. after mod_remoteip).
 *
 * Pure: APR only (apr_ipsubnet_*, the matcher mod_authz_host uses), unit
 * tested in tests/unit/test_trust.c. */
#ifndef FX_TRUST_H
#define FX_TRUST_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_network_io.h>

typedef struct fx_trust_list fx_trust_list;

fx_trust_list *fx_trust_make(apr_pool_t *p);

/* Add "192.0.2.7", "10.0.0.0/8", "10.0.0.0/255.0.0.0", "2001:db8::/32",
 * "::1".  Returns NULL, or an error message from p naming the value. */
const char *fx_trust_add(fx_trust_list *l, apr_pool_t *p, const char *spec);

/* The loopback default: 127.0.0.0/8 and ::1. */
fx_trust_list *fx_trust_loopback(apr_pool_t *p);

int fx_trust_count(const fx_trust_list *l);

/* Is sa inside one of the ranges?  NULL list or sa: no. */
int fx_trust_match(const fx_trust_list *l, apr_sockaddr_t *sa);

/* The name of the first request header that says the request was
 * relayed by a proxy (Forwarded, X-Forwarded-For, Via, X-Real-IP), or
 * NULL.  The loopback default must not trust such a request: behind a
 * reverse proxy on the same host every client has a loopback peer. */
const char *fx_trust_forwarded_by(const apr_table_t *headers_in);

#endif
