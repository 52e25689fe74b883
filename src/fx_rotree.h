/* fx_rotree.h — the tree of a report-only candidate (fx_rotree.c): its
 * nodes, mod_authz_core's evaluation over it (apply_authz_sections) with
 * the provider calls left to a callback, and the checks made at startup.
 *
 * Pure: APR only, unit tested in tests/unit/test_rotree.c.  Results use
 * mod_auth.h's authz_status numbering (FX_AZ_* of fx_authz_eval.h). */
#ifndef FX_ROTREE_H
#define FX_ROTREE_H

#include <apr_pools.h>
#include "util_cfgtree.h"
#include "fx_authz_eval.h"

typedef struct fx_ro_node fx_ro_node;
struct fx_ro_node {
    int op;                         /* 0: a Require line; FX_AZ_AND/OR */
    int negate;                     /* Require not, <RequireNone> */
    const ap_directive_t *d;        /* the line */
    const char *prov_name;          /* leaves: the provider, as written */
    const char *args;               /* leaves: its arguments */
    const void *prov;               /* leaves: the caller's provider */
    const void *parsed;             /* leaves: what its parser made */
    int index;                      /* leaves: 0.., in evaluation order */
    int absolute;                   /* leaves: Require all denied */
    apr_int64_t limited;            /* method mask it applies to (<Limit>) */
    fx_ro_node *first, *last, *next;
};

/* A node applying to every method (limited -1). */
fx_ro_node *fx_ro_node_new(apr_pool_t *p, int op, int negate,
                           const ap_directive_t *d);
void fx_ro_append(fx_ro_node *parent, fx_ro_node *child);

/* mod_authz_core's name of a container: "<RequireAll>", "<RequireAny>",
 * "<RequireNone>", "<RequireNotAll>". */
const char *fx_ro_cont_name(const fx_ro_node *n);
/* "<RequireAll" (as httpd spells a container directive) -> op, negation;
 * 0 for anything else. */
int fx_ro_container_kind(const char *name, int *op, int *neg);

/* The provider's answer for a leaf (FX_AZ_*). */
typedef int fx_ro_leaf_fn(void *baton, const fx_ro_node *leaf);

/* apply_authz_sections over n for a request of method_number: a node
 * limited to other methods counts as granted in an AND and neutral
 * otherwise; containers stop as httpd's do (AND at the first denial, OR at
 * the first grant, an error at once); negation turns granted into denied
 * and denied into neutral.  Leaves are asked through fn in index order,
 * each at most once.  The root is applied with parent_op FX_AZ_AND, as
 * mod_authz_core applies a section. */
int fx_ro_apply(const fx_ro_node *n, int parent_op, int method_number,
                fx_ro_leaf_fn *fn, void *baton);

/* The container mod_authz_core's check_config would refuse as containing
 * only negative authorization directives (AH01624), once it has shaped
 * the tree as it does (same-operator containers merged into their parent,
 * De Morgan for a negated container of the other operator); NULL when
 * there is none.  s itself counts. */
const fx_ro_node *fx_ro_only_negative(const fx_ro_node *s);

/* The answers n can give, over every answer of its leaves (each leaf on its
 * own: a superset, so what is missing is proven impossible).  `Require all
 * granted|denied` always answers the same; every other leaf either way. */
enum { FX_RO_G = 1, FX_RO_D = 2, FX_RO_N = 4 };
int fx_ro_outcomes(const fx_ro_node *n);

#endif
