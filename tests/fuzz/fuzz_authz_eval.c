/* fuzz_authz_eval.c — libFuzzer target for the Require tree replay
 * (src/fx_authz_eval.c): trees of RequireAll/Any/None containers and
 * leaves with arbitrary provider results built from the input, evaluated,
 * blamed and re-evaluated with a granting rule added; plus the protection
 * patterns and scope helpers on a path from the input.
 * Oracles: results are authz_status values; the blamed node is in the
 * tree, and a blamed leaf is among the responsible ones; a tree that was
 * granted is never blamed on a leaf; fx_az_grants_with leaves every
 * result as it was; adding a granting rule to the root "any" of a denied
 * tree never makes it grant less.
 * FUZZ_SOURCES: src/fx_authz_eval.c */
#include "fuzz_util.h"
#include "fx_authz_eval.h"

#define FZ_MAX_NODES 64

static fx_az_node *fz_nodes[FZ_MAX_NODES];
static int fz_n, fz_leaves;

static fx_az_node *fz_tree(fz_in *in, apr_pool_t *p, int depth)
{
    unsigned b = fz_byte(in);
    fx_az_node *n;
    int k, i, slot;

    if (fz_n >= FZ_MAX_NODES) {
        return NULL;
    }
    slot = fz_n++;     /* this node's place, taken before its children's */
    if (depth >= 4 || (b & 3) != 0) {
        n = fx_az_leaf(p, fz_leaves++, (b >> 2) % 5, (b >> 5) & 1);
        n->absolute = (b >> 6) & 1;
    }
    else {
        n = fx_az_container(p, (b & 4) ? FX_AZ_AND : FX_AZ_OR, (b >> 3) & 1,
                            NULL);
        k = 1 + (b >> 4) % 4;
        for (i = 0; i < k; i++) {
            fx_az_node *c = fz_tree(in, p, depth + 1);
            if (c) {
                fx_az_append(n, c);
            }
        }
    }
    fz_nodes[slot] = n;
    return n;
}

static int fz_valid(int r)
{
    return r >= FX_AZ_DENIED && r <= FX_AZ_DENIED_NO_USER;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    fx_az_node *root;
    const fx_az_node *b;
    apr_array_header_t *resp;
    int before[FZ_MAX_NODES], i, r, active, found;
    const char *path;

    fz_n = fz_leaves = 0;
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fz_tree(&in, p, 1));     /* fz_n is 0: never NULL */
    if (in.n && (fz_byte(&in) & 1) && fz_n < FZ_MAX_NODES) {
        fx_az_node *c = fz_tree(&in, p, 1);
        if (c) {
            fx_az_append(root, c);
        }
    }
    r = fx_az_evaluate(root);
    FZ_ASSERT(fz_valid(r));
    for (i = 0; i < fz_n; i++) {
        FZ_ASSERT(fz_valid(fz_nodes[i]->result));
        before[i] = fz_nodes[i]->result;
    }
    b = fx_az_blame(root, &active);
    FZ_ASSERT(b != NULL);
    found = b == root;
    for (i = 0; i < fz_n && !found; i++) {
        found = fz_nodes[i] == b;
    }
    FZ_ASSERT(found);
    if (b->is_leaf) {
        FZ_ASSERT(r != FX_AZ_GRANTED);
        resp = apr_array_make(p, 4, sizeof(int));
        fx_az_responsible(root, resp);
        found = 0;
        for (i = 0; i < resp->nelts; i++) {
            found |= APR_ARRAY_IDX(resp, i, int) == b->index;
        }
        FZ_ASSERT(found);
    }
    for (i = 0; i < fz_n; i++) {
        if (!fz_nodes[i]->is_leaf) {
            (void)fx_az_grants_with(p, root, fz_nodes[i]);
        }
    }
    FZ_ASSERT(fx_az_evaluate(root) == r);
    for (i = 0; i < fz_n; i++) {
        FZ_ASSERT(fz_nodes[i]->result == before[i]);
    }
    if (r != FX_AZ_ERROR) {
        /* one more granting rule in the implicit "any" always grants */
        FZ_ASSERT(fx_az_grants_with(p, root, root));
    }

    path = fz_slice(&in, p, NULL);
    (void)fx_az_protection_of(path);
    if (*path == '/') {
        const char *dir = fx_az_target_dir(p, path, fz_byte(&in) & 1);
        FZ_ASSERT(dir[0] == '/');
        FZ_ASSERT(!fx_az_is_ancestor(dir, dir));
        (void)fx_az_is_ancestor("/", path);
    }
    return 0;
}
