/* test_rotree.c — unit tests for the report-only candidate tree
 * (fx_rotree.c): mod_authz_core's evaluation with scripted provider
 * answers, checked against the independent replay of fx_authz_eval.c on
 * random trees; the only-negative check as mod_authz_core shapes trees;
 * the answers a candidate can never give. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_rotree.h"
#include "fx_authz_eval.h"
#include "unit.h"

#define GET 0                       /* M_GET */
#define POST 2                      /* M_POST */

typedef struct {
    const int *answers;             /* per leaf index */
    int calls[64];
    int ncalls;
} script;

static int scripted(void *baton, const fx_ro_node *leaf)
{
    script *s = baton;
    s->calls[s->ncalls++] = leaf->index;
    return s->answers[leaf->index];
}

static int nleaves;

static fx_ro_node *leaf(apr_pool_t *p, const char *prov, const char *args,
                        int negate)
{
    fx_ro_node *n = fx_ro_node_new(p, 0, negate, NULL);
    n->prov_name = prov;
    n->args = args;
    n->index = nleaves++;
    return n;
}

static fx_ro_node *cont(apr_pool_t *p, int op, int negate)
{
    return fx_ro_node_new(p, op, negate, NULL);
}

static void test_apply(apr_pool_t *p)
{
    /* root any { all { granted-leaf, not env } , ip } */
    fx_ro_node *root, *all, *a, *b, *c;
    int ans[3];
    script s;

    nleaves = 0;
    root = cont(p, FX_AZ_OR, 0);
    all = cont(p, FX_AZ_AND, 0);
    fx_ro_append(root, all);
    fx_ro_append(all, a = leaf(p, "all", "granted", 0));
    fx_ro_append(all, b = leaf(p, "env", "bad_bot", 1));
    fx_ro_append(root, c = leaf(p, "ip", "10.0.0.0/8", 0));

    /* a bot: the negated env matches, the ip does not grant */
    ans[0] = FX_AZ_GRANTED; ans[1] = FX_AZ_GRANTED; ans[2] = FX_AZ_DENIED;
    memset(&s, 0, sizeof(s));
    s.answers = ans;
    CHECK_INT(fx_ro_apply(root, FX_AZ_AND, GET, scripted, &s), FX_AZ_DENIED);
    CHECK_INT(s.ncalls, 3);

    /* a browser: the RequireAll grants, the ip is never asked */
    ans[1] = FX_AZ_DENIED;
    memset(&s, 0, sizeof(s));
    s.answers = ans;
    CHECK_INT(fx_ro_apply(root, FX_AZ_AND, GET, scripted, &s), FX_AZ_GRANTED);
    CHECK_INT(s.ncalls, 2);
    CHECK_INT(s.calls[0], 0);
    CHECK_INT(s.calls[1], 1);

    /* an error stops everything */
    ans[0] = FX_AZ_ERROR;
    memset(&s, 0, sizeof(s));
    s.answers = ans;
    CHECK_INT(fx_ro_apply(root, FX_AZ_AND, GET, scripted, &s), FX_AZ_ERROR);
    CHECK_INT(s.ncalls, 1);

    /* no user yet: an any of denied and denied-no-user asks for one */
    ans[0] = FX_AZ_GRANTED; ans[1] = FX_AZ_GRANTED;
    ans[2] = FX_AZ_DENIED_NO_USER;
    memset(&s, 0, sizeof(s));
    s.answers = ans;
    CHECK_INT(fx_ro_apply(root, FX_AZ_AND, GET, scripted, &s),
              FX_AZ_DENIED_NO_USER);

    /* limited to POST: neutral in the root's any, so nothing applies to
     * GET and the root is neutral; POST evaluates */
    all->limited = (apr_int64_t)1 << POST;
    c->limited = (apr_int64_t)1 << POST;
    memset(&s, 0, sizeof(s));
    s.answers = ans;
    CHECK_INT(fx_ro_apply(root, FX_AZ_AND, GET, scripted, &s), FX_AZ_NEUTRAL);
    CHECK_INT(s.ncalls, 0);
    memset(&s, 0, sizeof(s));
    s.answers = ans;
    CHECK_INT(fx_ro_apply(root, FX_AZ_AND, POST, scripted, &s),
              FX_AZ_DENIED_NO_USER);
    /* a limited child of an AND counts as granted there */
    all->limited = -1;
    c->limited = -1;
    a->limited = (apr_int64_t)1 << POST;
    ans[1] = FX_AZ_DENIED;
    memset(&s, 0, sizeof(s));
    s.answers = ans;
    CHECK_INT(fx_ro_apply(all, FX_AZ_AND, GET, scripted, &s), FX_AZ_GRANTED);
    CHECK_INT(s.ncalls, 1);
    (void)b;
}

/* Random trees: fx_ro_apply and fx_az_evaluate (written separately, from
 * the same mod_authz_core code) must agree, and the leaves asked must be
 * exactly those fx_az_evaluate did not skip. */
static unsigned rnd_state = 12345;
static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) & 0x7fff;
}

static fx_ro_node *rand_tree(apr_pool_t *p, int depth, fx_az_node **mirror,
                             fx_az_node **leaves, const int *answers)
{
    fx_ro_node *n;
    if (depth == 0 || rnd() % 3 == 0) {
        int neg = rnd() % 4 == 0;
        n = leaf(p, "ip", "x", neg);
        *mirror = fx_az_leaf(p, n->index, answers[n->index], neg);
        leaves[n->index] = *mirror;
    }
    else {
        int op = rnd() % 2 ? FX_AZ_AND : FX_AZ_OR, k, kids = 1 + rnd() % 3;
        int neg = rnd() % 4 == 0;
        n = cont(p, op, neg);
        *mirror = fx_az_container(p, op, neg, n);
        for (k = 0; k < kids && nleaves < 60; k++) {
            fx_az_node *m;
            fx_ro_append(n, rand_tree(p, depth - 1, &m, leaves, answers));
            fx_az_append(*mirror, m);
        }
    }
    return n;
}

static void test_random_against_replay(apr_pool_t *p)
{
    static const int vals[] = { FX_AZ_DENIED, FX_AZ_GRANTED, FX_AZ_DENIED,
                                FX_AZ_GRANTED, FX_AZ_DENIED_NO_USER,
                                FX_AZ_ERROR };
    int t, agree = 0, calls_ok = 0;
    for (t = 0; t < 2000; t++) {
        int answers[64], i, mine, theirs;
        fx_az_node *leaves[64], *mroot, *m;
        fx_ro_node *root;
        script s;
        for (i = 0; i < 64; i++) {
            answers[i] = vals[rnd() % (t % 5 == 0 ? 6 : 5)];
        }
        nleaves = 0;
        memset(leaves, 0, sizeof(leaves));
        root = cont(p, FX_AZ_OR, 0);
        mroot = fx_az_container(p, FX_AZ_OR, 0, root);
        for (i = 0; i < 1 + (int)(rnd() % 3); i++) {
            fx_ro_append(root, rand_tree(p, 3, &m, leaves, answers));
            fx_az_append(mroot, m);
        }
        memset(&s, 0, sizeof(s));
        s.answers = answers;
        mine = fx_ro_apply(root, FX_AZ_AND, GET, scripted, &s);
        theirs = fx_az_evaluate(mroot);
        agree += (mine == theirs);
        /* the leaves asked come in index order */
        for (i = 1; i < s.ncalls && s.calls[i] > s.calls[i - 1]; i++)
            ;
        calls_ok += (i >= s.ncalls);
    }
    CHECK_INT(agree, 2000);
    CHECK_INT(calls_ok, 2000);
}

static void test_only_negative(apr_pool_t *p)
{
    fx_ro_node *root, *all, *inner, *none;

    nleaves = 0;
    /* <RequireAll> Require not ip </RequireAll> */
    root = cont(p, FX_AZ_OR, 0);
    all = cont(p, FX_AZ_AND, 0);
    fx_ro_append(root, all);
    fx_ro_append(all, leaf(p, "ip", "a", 1));
    CHECK(fx_ro_only_negative(root) == all);

    /* <RequireAll> Require ip <RequireAll> Require not ip </RequireAll>
     * </RequireAll>: httpd merges the inner into the outer: accepted */
    root = cont(p, FX_AZ_OR, 0);
    all = cont(p, FX_AZ_AND, 0);
    inner = cont(p, FX_AZ_AND, 0);
    fx_ro_append(root, all);
    fx_ro_append(all, leaf(p, "ip", "a", 0));
    fx_ro_append(all, inner);
    fx_ro_append(inner, leaf(p, "ip", "b", 1));
    CHECK(fx_ro_only_negative(root) == NULL);

    /* <RequireAll> Require not ip <RequireNone> Require ip </RequireNone>
     * </RequireAll>: De Morgan makes both negative: refused */
    root = cont(p, FX_AZ_OR, 0);
    all = cont(p, FX_AZ_AND, 0);
    none = cont(p, FX_AZ_OR, 1);
    fx_ro_append(root, all);
    fx_ro_append(all, leaf(p, "ip", "a", 1));
    fx_ro_append(all, none);
    fx_ro_append(none, leaf(p, "ip", "b", 0));
    CHECK(fx_ro_only_negative(root) == all);

    /* ... with a positive rule beside them: accepted */
    fx_ro_append(all, leaf(p, "all", "granted", 0));
    CHECK(fx_ro_only_negative(root) == NULL);

    /* <RequireAll> Require ip <RequireNone> <RequireAll> Require ip
     * </RequireAll> </RequireNone> </RequireAll>: accepted */
    root = cont(p, FX_AZ_OR, 0);
    all = cont(p, FX_AZ_AND, 0);
    none = cont(p, FX_AZ_OR, 1);
    inner = cont(p, FX_AZ_AND, 0);
    fx_ro_append(root, all);
    fx_ro_append(all, leaf(p, "ip", "a", 0));
    fx_ro_append(all, none);
    fx_ro_append(none, inner);
    fx_ro_append(inner, leaf(p, "ip", "b", 0));
    CHECK(fx_ro_only_negative(root) == NULL);
}

static void test_outcomes(apr_pool_t *p)
{
    fx_ro_node *root, *all;

    nleaves = 0;
    CHECK_INT(fx_ro_outcomes(leaf(p, "all", "granted", 0)), FX_RO_G);
    CHECK_INT(fx_ro_outcomes(leaf(p, "all", "denied", 0)), FX_RO_D);
    CHECK_INT(fx_ro_outcomes(leaf(p, "all", "granted", 1)), FX_RO_D);
    CHECK_INT(fx_ro_outcomes(leaf(p, "all", "denied", 1)), FX_RO_N);
    CHECK_INT(fx_ro_outcomes(leaf(p, "ip", "x", 0)), FX_RO_G | FX_RO_D);
    CHECK_INT(fx_ro_outcomes(leaf(p, "ip", "x", 1)), FX_RO_D | FX_RO_N);

    /* <RequireAll> all granted, not all granted: never grants */
    root = cont(p, FX_AZ_OR, 0);
    all = cont(p, FX_AZ_AND, 0);
    fx_ro_append(root, all);
    fx_ro_append(all, leaf(p, "all", "granted", 0));
    fx_ro_append(all, leaf(p, "all", "granted", 1));
    CHECK_INT(fx_ro_outcomes(root), FX_RO_D);

    /* the Bad Bot Blocker's shape can do both */
    root = cont(p, FX_AZ_OR, 0);
    all = cont(p, FX_AZ_AND, 0);
    fx_ro_append(root, all);
    fx_ro_append(all, leaf(p, "all", "granted", 0));
    fx_ro_append(all, leaf(p, "env", "bad_bot", 1));
    fx_ro_append(root, leaf(p, "ip", "66.249.64.0/19", 0));
    CHECK_INT(fx_ro_outcomes(root), FX_RO_G | FX_RO_D);

    /* any { ip, all granted }: never denies */
    root = cont(p, FX_AZ_OR, 0);
    fx_ro_append(root, leaf(p, "ip", "x", 0));
    fx_ro_append(root, leaf(p, "all", "granted", 0));
    CHECK_INT(fx_ro_outcomes(root), FX_RO_G);

    CHECK_STR(fx_ro_cont_name(cont(p, FX_AZ_OR, 1)), "<RequireNone>");
    CHECK_STR(fx_ro_cont_name(cont(p, FX_AZ_AND, 0)), "<RequireAll>");
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_apply(p);
    test_random_against_replay(p);
    test_only_negative(p);
    test_outcomes(p);
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
