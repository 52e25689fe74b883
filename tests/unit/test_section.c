/* test_section.c — unit tests for the section chain an entry prints
 * (src/fx_section.c): file named once per change, containers without
 * arguments, and nesting deeper than any fixed buffer would hold. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_section.h"
#include "unit.h"

static ap_directive_t *node(apr_pool_t *p, ap_directive_t *parent,
                            const char *name, const char *args,
                            const char *file, int line)
{
    ap_directive_t *d = apr_pcalloc(p, sizeof(*d));
    d->directive = name;
    d->args = args;
    d->filename = file;
    d->line_num = line;
    d->parent = parent;
    return d;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (s = strstr(s, needle); s; s = strstr(s + 1, needle)) {
        n++;
    }
    return n;
}

int main(void)
{
    apr_pool_t *p;
    ap_directive_t *dir, *req, *leaf, *d;
    const char *chain;
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);

    dir = node(p, NULL, "<Directory", "/srv>", "site.conf", 12);
    req = node(p, dir, "<RequireAll", ">", "site.conf", 14);
    leaf = node(p, req, "Require", "ip 10.0.0.1", "site.conf", 15);
    CHECK_STR(fx_section_chain(p, leaf),
              "<Directory /srv> (site.conf:12) > <RequireAll> (:14)");
    CHECK(fx_section_chain(p, dir) == NULL);
    CHECK(fx_section_chain(p, NULL) == NULL);
    CHECK_STR(fx_directive_at(p, leaf), "site.conf:15");
    CHECK(fx_directive_at(p, NULL) == NULL);

    /* a change of file names the file again */
    req->filename = "inc.conf";
    CHECK_STR(fx_section_chain(p, leaf),
              "<Directory /srv> (site.conf:12) > <RequireAll> (inc.conf:14)");

    /* 16 levels, each in its own file (issue 14: a 128-entry iovec on the
     * stack overflowed here), and 300 levels: every level is named. */
    d = node(p, NULL, "<Directory", "/deep>", "f0.conf", 1);
    for (i = 1; i < 300; i++) {
        d = node(p, d, i < 8 ? "<If" : "<RequireAll", i < 8 ? "true>" : ">",
                 apr_psprintf(p, "f%d.conf", i), i + 1);
        if (i == 15) {
            chain = fx_section_chain(p, node(p, d, "Require", "all denied",
                                             "x.conf", 1));
            CHECK_INT(count(chain, " > "), 15);
            CHECK_INT(count(chain, ".conf:"), 16);
            CHECK(strstr(chain, "(f15.conf:16)") != NULL);
        }
    }
    chain = fx_section_chain(p, node(p, d, "Require", "all denied", "x.conf", 1));
    CHECK_INT(count(chain, " > "), 299);
    CHECK(strncmp(chain, "<Directory /deep> (f0.conf:1) > <If true> (f1.conf:2)", 53) == 0);
    CHECK(strstr(chain, "<RequireAll> (f299.conf:300)") != NULL);
    return unit_done();
}
