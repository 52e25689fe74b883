/* test_trust.c — unit tests for ForbiddenExplainTrustedClients address
 * parsing and matching (IPv4, IPv6, CIDR, netmasks, the loopback default). */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_network_io.h>
#include <apr_tables.h>
#include "fx_trust.h"
#include "unit.h"

static apr_sockaddr_t *addr(apr_pool_t *p, const char *ip)
{
    apr_sockaddr_t *sa = NULL;
    int family = strchr(ip, ':') ? APR_INET6 : APR_INET;
    unit_checks++;
    if (apr_sockaddr_info_get(&sa, ip, family, 80, 0, p) != APR_SUCCESS) {
        unit_failures++;
        fprintf(stderr, "cannot make address %s\n", ip);
        return NULL;
    }
    return sa;
}

static int matches(apr_pool_t *p, const fx_trust_list *l, const char *ip)
{
    return fx_trust_match(l, addr(p, ip));
}

int main(void)
{
    apr_pool_t *p;
    fx_trust_list *l, *lo;
    const char *err;

    apr_initialize();
    apr_pool_create(&p, NULL);

    l = fx_trust_make(p);
    CHECK(fx_trust_add(l, p, "10.0.0.0/8") == NULL);
    CHECK(fx_trust_add(l, p, "192.0.2.7") == NULL);
    CHECK(fx_trust_add(l, p, "198.51.100.0/255.255.255.0") == NULL);
    CHECK(fx_trust_add(l, p, "2001:db8::/32") == NULL);
    CHECK(fx_trust_count(l) == 4);

    CHECK(matches(p, l, "10.200.3.4"));
    CHECK(!matches(p, l, "11.0.0.1"));
    CHECK(matches(p, l, "192.0.2.7"));
    CHECK(!matches(p, l, "192.0.2.8"));
    CHECK(matches(p, l, "198.51.100.99"));
    CHECK(!matches(p, l, "198.51.101.1"));
    CHECK(matches(p, l, "2001:db8:1::5"));
    CHECK(!matches(p, l, "2001:db9::5"));
    /* IPv4-mapped IPv6 peers match IPv4 ranges, as with Require ip */
    CHECK(matches(p, l, "::ffff:10.1.2.3"));
    CHECK(!fx_trust_match(l, NULL));
    CHECK(!fx_trust_match(NULL, addr(p, "10.0.0.1")));

    /* refused values name themselves */
    err = fx_trust_add(l, p, "10.0.0.0/33");
    CHECK(err && strstr(err, "'10.0.0.0/33'"));
    err = fx_trust_add(l, p, "not-an-ip");
    CHECK(err && strstr(err, "'not-an-ip'"));
    CHECK(fx_trust_add(l, p, "10.1") != NULL);          /* partial address */
    CHECK(fx_trust_add(l, p, "10.0.0.0/") != NULL);
    CHECK(fx_trust_add(l, p, "") != NULL);
    CHECK(fx_trust_add(l, p, "2001:db8::/129") != NULL);
    CHECK(fx_trust_add(l, p, "1.2.3.4.5") != NULL);
    CHECK(fx_trust_add(l, p, "300.1.1.1") != NULL);
    CHECK(fx_trust_add(l, p, "::g") != NULL);
    CHECK(fx_trust_count(l) == 4);

    lo = fx_trust_loopback(p);
    CHECK(matches(p, lo, "127.0.0.1"));
    CHECK(matches(p, lo, "127.9.8.7"));
    CHECK(matches(p, lo, "::1"));
    CHECK(!matches(p, lo, "128.0.0.1"));
    CHECK(!matches(p, lo, "::2"));

    /* requests relayed by a proxy are recognised by any of four headers,
     * whatever the case of the name and even when empty */
    {
        apr_table_t *h = apr_table_make(p, 4);
        CHECK(fx_trust_forwarded_by(NULL) == NULL);
        apr_table_set(h, "Host", "x");
        apr_table_set(h, "X-Forwarded-Host", "x");
        CHECK(fx_trust_forwarded_by(h) == NULL);
        apr_table_set(h, "x-real-ip", "");
        CHECK_STR(fx_trust_forwarded_by(h), "X-Real-IP");
        apr_table_clear(h);
        apr_table_set(h, "VIA", "1.1 front");
        CHECK_STR(fx_trust_forwarded_by(h), "Via");
        apr_table_clear(h);
        apr_table_set(h, "forwarded", "for=192.0.2.1");
        CHECK_STR(fx_trust_forwarded_by(h), "Forwarded");
        apr_table_clear(h);
        apr_table_set(h, "X-Forwarded-For", "192.0.2.1");
        CHECK_STR(fx_trust_forwarded_by(h), "X-Forwarded-For");
    }

    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
