/* fx_authz_eval.h — replays mod_authz_core's evaluation over the rules that
 * were actually evaluated for a request, and names the rules responsible for
 * the outcome.
 *
 * Pure: APR only, unit tested in tests/unit/test_authz.c.  The caller builds
 * a tree of containers (<RequireAll>, <RequireAny>, <RequireNone>, the
 * implicit "any" root of each configuration level, AuthMerging joins) whose
 * leaves are the Require calls its provider wrappers saw, each with the
 * provider's own result.  Results use mod_auth.h's authz_status numbering. */
#ifndef FX_AUTHZ_EVAL_H
#define FX_AUTHZ_EVAL_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Same values as authz_status in mod_auth.h. */
enum {
    FX_AZ_DENIED = 0,
    FX_AZ_GRANTED = 1,
    FX_AZ_NEUTRAL = 2,
    FX_AZ_ERROR = 3,
    FX_AZ_DENIED_NO_USER = 4
};

enum { FX_AZ_AND = 1, FX_AZ_OR = 2 };

typedef struct fx_az_node fx_az_node;
struct fx_az_node {
    int is_leaf;
    int op;             /* containers: FX_AZ_AND or FX_AZ_OR */
    int negate;         /* "Require not", <RequireNone> */
    int raw;            /* leaves: the provider's result */
    int inner;          /* result before negation (computed) */
    int result;         /* result after negation (computed) */
    int index;          /* leaves: the caller's index of this rule */
    int absolute;       /* leaves: denies whoever asks (Require all denied) */
    int tag;            /* containers: the caller's kind for it */
    const void *key;    /* containers: the caller's identity for it */
    fx_az_node *first, *last, *next;
};

fx_az_node *fx_az_leaf(apr_pool_t *p, int index, int raw, int negate);
fx_az_node *fx_az_container(apr_pool_t *p, int op, int negate,
                            const void *key);
void fx_az_append(fx_az_node *parent, fx_az_node *child);
/* The child container of parent with this key, or NULL. */
fx_az_node *fx_az_find_child(const fx_az_node *parent, const void *key);

/* Computes inner/result for n and its subtree, as apply_authz_sections
 * does (NEUTRAL children are ignored; RequireAll keeps the first DENIED,
 * RequireAny the first GRANTED; negation turns GRANTED into DENIED and
 * DENIED into NEUTRAL).  Returns n->result. */
int fx_az_evaluate(fx_az_node *n);

/* Appends (as int) the index of every leaf whose result made n's result
 * what it is: the denying rule of a RequireAll, every rule of a RequireAny
 * where none granted, the granting rule under a negation, ...  Call after
 * fx_az_evaluate. */
void fx_az_responsible(const fx_az_node *n, apr_array_header_t *out);

/* The node to name for a failed n (call after fx_az_evaluate): the leaf
 * whose effect denied, followed down through the child that decided each
 * container.  A RequireAny (or an implicit root, or an OR merge) where no
 * child granted has no single deciding child; when exactly one of its
 * failed children failed because a rule actively refused the client (a
 * matched "Require not", a RequireNone with a matching child, an absolute
 * leaf) and the others merely did not grant, that one is followed: the
 * others are alternatives that did not let the client in either.  Otherwise
 * the container itself is returned.  *active (may be NULL) says whether the
 * returned node refused actively. */
const fx_az_node *fx_az_blame(const fx_az_node *n, int *active);

/* Appends (as int) the index of every leaf that refused the client by
 * name below a failed n (call after fx_az_evaluate): a matched "Require
 * not", the matching rules of a failed <RequireNone>.  A rule that merely
 * did not grant, or `Require all denied`, is not one.  A grant added
 * beside such a refusal in a RequireAny would lift it: a ban is a
 * deliberate protection, never something a hint undoes. */
void fx_az_refusals(const fx_az_node *n, apr_array_header_t *out);

/* The container whose child n is, below root; NULL when n is root or not
 * in the tree. */
fx_az_node *fx_az_parent(fx_az_node *root, const fx_az_node *n);

/* Would root grant if a granting rule were added to container (a node of
 * root's tree)?  Evaluates with the rule added, then removes it and
 * evaluates again, so every node's result is as before.  This is how a
 * hint "add `Require ip <client>` here" is verified before it is offered. */
int fx_az_grants_with(apr_pool_t *p, fx_az_node *root, fx_az_node *container);

/* Would root grant if leaf answered raw, negated or not as negate (a rule
 * changed in place: a method added to `Require method`, a <Limit> that no
 * longer covers this method, a variable no longer set)?  Evaluates with
 * the change, then restores the leaf and evaluates again, so every node's
 * result is as before. */
int fx_az_grants_if(fx_az_node *root, fx_az_node *leaf, int raw, int negate);

/* The deliberate protection a request path falls under, by its name: "vcs"
 * (a .git, .svn, .hg, .bzr, CVS component), "backup" (~, .bak, .old,
 * .orig, .save, .swp, .sql, .dump, .tar, .tgz, .gz, .zip), "secret-file"
 * (wp-config.php, config.php, settings.php, configuration.php,
 * local.xml, .env, .htpasswd, *.key, *.pem, *.ini, *.conf, *.log), "dotfiles"
 * (any other component starting with '.'), or NULL. */
const char *fx_az_protection_of(const char *path);

/* Scope narrowing: the directory a request for filename maps to (itself
 * when is_dir, else its parent), without a trailing '/' (except "/"). */
const char *fx_az_target_dir(apr_pool_t *p, const char *filename, int is_dir);

/* 1 when dir (a <Directory> path, '/'-terminated or not) is a proper
 * ancestor of path: a section there covers more than path. */
int fx_az_is_ancestor(const char *dir, const char *path);

/* "denied", "granted", "neutral", "error", "denied-no-user". */
const char *fx_az_result_name(int result);

#endif
