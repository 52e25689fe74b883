/* fx_rotree.c — the tree of a report-only candidate: nodes, mod_authz_core's
 * evaluation over it with the provider calls left to the caller, and the
 * startup checks (only-negative containers, answers that can never
 * occur).  Pure: APR only (fx_rotree.h). */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "fx_rotree.h"

static const char *fx_ro_trim(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

fx_ro_node *fx_ro_node_new(apr_pool_t *p, int op, int negate,
                                  const ap_directive_t *d)
{
    fx_ro_node *n = apr_pcalloc(p, sizeof(*n));
    n->op = op;
    n->negate = negate;
    n->d = d;
    n->index = -1;
    n->limited = -1;
    return n;
}

void fx_ro_append(fx_ro_node *parent, fx_ro_node *child)
{
    child->next = NULL;
    if (parent->last) {
        parent->last->next = child;
    }
    else {
        parent->first = child;
    }
    parent->last = child;
}

/* mod_authz_core's format_authz_command for a container. */
const char *fx_ro_cont_name(const fx_ro_node *n)
{
    if (n->op == FX_AZ_AND) {
        return n->negate ? "<RequireNotAll>" : "<RequireAll>";
    }
    return n->negate ? "<RequireNone>" : "<RequireAny>";
}

int fx_ro_container_kind(const char *name, int *op, int *neg)
{
    if (!strcasecmp(name, "<RequireAll")) {
        *op = FX_AZ_AND; *neg = 0; return 1;
    }
    if (!strcasecmp(name, "<RequireAny")) {
        *op = FX_AZ_OR; *neg = 0; return 1;
    }
    if (!strcasecmp(name, "<RequireNone")) {
        *op = FX_AZ_OR; *neg = 1; return 1;
    }
    return 0;
}

/* Does the list (children of a container of operator s_op) hold a rule
 * that is not negated once mod_authz_core has shaped it: same-operator
 * containers merged into their parent (add_authz_section), a negated
 * container of the other operator replaced by its children with their
 * negation flipped (authz_core_check_section, De Morgan)?  toggle: the
 * flips above this list. */
static int fx_ro_has_positive(const fx_ro_node *first, int s_op, int toggle)
{
    const fx_ro_node *n;
    for (n = first; n; n = n->next) {
        if (n->op && !n->negate && n->op == s_op) {
            if (fx_ro_has_positive(n->first, s_op, toggle)) {
                return 1;
            }
        }
        else if (n->op && n->negate && n->op != s_op) {
            if (fx_ro_has_positive(n->first, n->op, !toggle)) {
                return 1;
            }
        }
        else if (!(n->negate ^ toggle)) {
            return 1;
        }
    }
    return 0;
}

static const fx_ro_node *fx_ro_check_list(const fx_ro_node *first, int s_op)
{
    const fx_ro_node *n, *bad;
    for (n = first; n; n = n->next) {
        if (!n->op) {
            continue;
        }
        bad = (!n->negate && n->op == s_op) ? fx_ro_check_list(n->first, s_op)
                                            : fx_ro_only_negative(n);
        if (bad) {
            return bad;
        }
    }
    return NULL;
}

const fx_ro_node *fx_ro_only_negative(const fx_ro_node *s)
{
    const fx_ro_node *bad = fx_ro_check_list(s->first, s->op);
    if (bad) {
        return bad;
    }
    return fx_ro_has_positive(s->first, s->op, 0) ? NULL : s;
}

int fx_ro_outcomes(const fx_ro_node *n)
{
    int set;
    if (!n->op) {
        const char *a = fx_ro_trim(n->args);
        set = strcasecmp(n->prov_name, "all") ? (FX_RO_G | FX_RO_D)
            : !strcasecmp(a, "granted") ? FX_RO_G : FX_RO_D;
    }
    else {
        const fx_ro_node *c;
        int any_g = 0, any_d = 0, all_n = 1, all_gn = 1, all_dn = 1;
        for (c = n->first; c; c = c->next) {
            int s = fx_ro_outcomes(c);
            any_g |= (s & FX_RO_G) != 0;
            any_d |= (s & FX_RO_D) != 0;
            all_n &= (s & FX_RO_N) != 0;
            all_gn &= (s & (FX_RO_G | FX_RO_N)) != 0;
            all_dn &= (s & (FX_RO_D | FX_RO_N)) != 0;
        }
        if (n->op == FX_AZ_AND) {
            set = (any_d ? FX_RO_D : 0) | (all_gn && any_g ? FX_RO_G : 0)
                  | (all_n ? FX_RO_N : 0);
        }
        else {
            set = (any_g ? FX_RO_G : 0) | (all_dn && any_d ? FX_RO_D : 0)
                  | (all_n ? FX_RO_N : 0);
        }
    }
    if (n->negate) {
        set = ((set & FX_RO_G) ? FX_RO_D : 0)
              | ((set & (FX_RO_D | FX_RO_N)) ? FX_RO_N : 0);
    }
    return set;
}


/* apply_authz_sections of mod_authz_core.c, step by step. */
int fx_ro_apply(const fx_ro_node *n, int parent_op, int method_number,
                fx_ro_leaf_fn *fn, void *baton)
{
    int result;

    if (!(n->limited & ((apr_int64_t)1 << method_number))) {
        /* limited to other methods */
        return parent_op == FX_AZ_AND ? FX_AZ_GRANTED : FX_AZ_NEUTRAL;
    }
    if (!n->op) {
        result = fn(baton, n);
    }
    else {
        const fx_ro_node *c;
        result = FX_AZ_NEUTRAL;
        for (c = n->first; c; c = c->next) {
            int cr = fx_ro_apply(c, n->op, method_number, fn, baton);
            if (cr == FX_AZ_ERROR) {
                return cr;
            }
            if (cr == FX_AZ_NEUTRAL) {
                continue;
            }
            if (n->op == FX_AZ_AND) {
                if (cr == FX_AZ_DENIED) {
                    result = cr;
                    break;
                }
                if ((cr == FX_AZ_DENIED_NO_USER && result != FX_AZ_DENIED)
                    || result == FX_AZ_NEUTRAL) {
                    result = cr;
                }
            }
            else {
                if (cr == FX_AZ_GRANTED) {
                    result = cr;
                    break;
                }
                if ((cr == FX_AZ_DENIED_NO_USER && result == FX_AZ_DENIED)
                    || result == FX_AZ_NEUTRAL) {
                    result = cr;
                }
            }
        }
    }
    if (n->negate) {
        if (result == FX_AZ_GRANTED) {
            result = FX_AZ_DENIED;
        }
        else if (result == FX_AZ_DENIED || result == FX_AZ_DENIED_NO_USER) {
            result = FX_AZ_NEUTRAL;
        }
    }
    return result;
}
