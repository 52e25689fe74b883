/* test_authz.c — unit tests for the pure authorization helpers: the replay
 * of mod_authz_core's tree evaluation with the rules responsible for the
 * outcome (fx_authz_eval.c), and mod_access_compat's Order/Allow/Deny
 * matching (fx_compat.c). */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_authz_eval.h"
#include "fx_compat.h"
#include "unit.h"

/* The leaves a collector (fx_az_responsible, fx_az_refusals) lists for n,
 * as "i,j,k". */
static const char *leaves(apr_pool_t *p, fx_az_node *n,
                          void (*collect)(const fx_az_node *,
                                          apr_array_header_t *))
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(int));
    const char *s = "";
    int i;
    fx_az_evaluate(n);
    collect(n, out);
    for (i = 0; i < out->nelts; i++) {
        s = apr_psprintf(p, "%s%s%d", s, i ? "," : "", APR_ARRAY_IDX(out, i, int));
    }
    return s;
}

static const char *resp(apr_pool_t *p, fx_az_node *n)
{
    return leaves(p, n, fx_az_responsible);
}

static const char *refusals(apr_pool_t *p, fx_az_node *n)
{
    return leaves(p, n, fx_az_refusals);
}


static void test_eval(apr_pool_t *p)
{
    fx_az_node *root, *all, *none;
    int k1, k2;

    /* Implicit root (any): one denying rule decides. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    CHECK_STR(resp(p, root), "0");
    CHECK_INT(root->result, FX_AZ_DENIED);

    /* Any: two rules, neither granted -> both named. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    CHECK_STR(resp(p, root), "0,1");

    /* All: granted, then "not ip" matched (granted -> denied) decides. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    all = fx_az_container(p, FX_AZ_AND, 0, &k1);
    fx_az_append(root, all);
    fx_az_append(all, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    fx_az_append(all, fx_az_leaf(p, 1, FX_AZ_GRANTED, 1));
    CHECK_STR(resp(p, root), "1");
    CHECK_INT(root->result, FX_AZ_DENIED);
    CHECK(fx_az_find_child(root, &k1) == all);
    CHECK(fx_az_find_child(root, &k2) == NULL);

    /* Negated rule that did not match is neutral and ignored. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 1));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    CHECK_STR(resp(p, root), "1");

    /* RequireNone: a granting child makes it deny; that child decided. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    none = fx_az_container(p, FX_AZ_OR, 1, &k2);
    fx_az_append(root, none);
    fx_az_append(none, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    fx_az_append(none, fx_az_leaf(p, 2, FX_AZ_GRANTED, 0));
    CHECK_STR(resp(p, root), "2");
    CHECK_INT(none->inner, FX_AZ_GRANTED);
    CHECK_INT(none->result, FX_AZ_DENIED);

    /* No user yet beats denied in Any; denied beats it in All. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED_NO_USER, 0));
    fx_az_evaluate(root);
    CHECK_INT(root->result, FX_AZ_DENIED_NO_USER);
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED_NO_USER, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    CHECK_STR(resp(p, root), "1");

    /* All neutral: nothing decided, every rule is listed. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 4, FX_AZ_DENIED, 1));
    fx_az_append(root, fx_az_leaf(p, 5, FX_AZ_NEUTRAL, 0));
    CHECK_STR(resp(p, root), "4,5");
    CHECK_INT(root->result, FX_AZ_NEUTRAL);

    /* Error stops everything. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_ERROR, 0));
    CHECK_STR(resp(p, root), "1");

    CHECK_STR(fx_az_result_name(FX_AZ_DENIED_NO_USER), "denied-no-user");
    CHECK_STR(fx_az_result_name(FX_AZ_GRANTED), "granted");
}

static const char *env_of(void *baton, const char *name)
{
    return strcmp(name, "good") == 0 ? (const char *)baton : NULL;
}

static const char *host_of(void *baton)
{
    (void)baton;
    return "www.example.org";
}

/* The node fx_az_blame names: "leaf N", "container" or "root". */
static const char *blame(apr_pool_t *p, fx_az_node *root, int *active)
{
    const fx_az_node *b;
    fx_az_evaluate(root);
    b = fx_az_blame(root, active);
    if (b == root) {
        return "root";
    }
    return b->is_leaf ? apr_psprintf(p, "leaf %d", b->index) : "container";
}

static void test_blame(apr_pool_t *p)
{
    fx_az_node *root, *all, *any, *none;
    int k1, k2, active;

    /* Issue 12's tree: Any{ All{all granted, not env bad_bot},
     * Any{env good_bot, ip 66.249.64.0/19} } for a bad bot: the refusal is
     * the "not env" rule; the inner Any merely did not grant. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    any = fx_az_container(p, FX_AZ_OR, 0, &k1);
    all = fx_az_container(p, FX_AZ_AND, 0, &k2);
    fx_az_append(root, any);
    fx_az_append(any, all);
    fx_az_append(all, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    fx_az_append(all, fx_az_leaf(p, 1, FX_AZ_GRANTED, 1));
    all = fx_az_container(p, FX_AZ_OR, 0, &k2);
    fx_az_append(any, all);
    fx_az_append(all, fx_az_leaf(p, 2, FX_AZ_DENIED, 0));
    fx_az_append(all, fx_az_leaf(p, 3, FX_AZ_DENIED, 0));
    CHECK_STR(blame(p, root, &active), "leaf 1");
    CHECK_INT(active, 1);
    CHECK_STR(resp(p, root), "1,2,3");

    /* Any where nothing granted and nothing refused: the container. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    any = fx_az_container(p, FX_AZ_OR, 0, &k1);
    fx_az_append(root, any);
    fx_az_append(any, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    fx_az_append(any, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    CHECK_STR(blame(p, root, &active), "container");
    CHECK_INT(active, 0);
    /* ... the implicit root itself when the rules sit in it directly */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    CHECK_STR(blame(p, root, &active), "root");

    /* Two active refusals in an Any: no single rule, the container. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_GRANTED, 1));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_GRANTED, 1));
    CHECK_STR(blame(p, root, &active), "root");

    /* Require all denied is absolute: named beside a non-granting ip. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    root->last->absolute = 1;
    CHECK_STR(blame(p, root, &active), "leaf 1");

    /* A lone failed child among neutral ones decided alone. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_NEUTRAL, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    CHECK_STR(blame(p, root, &active), "leaf 1");
    CHECK_INT(active, 0);

    /* RequireNone inside All: the matching rule inside it is named. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    none = fx_az_container(p, FX_AZ_OR, 1, &k1);
    fx_az_append(root, none);
    fx_az_append(none, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    fx_az_append(none, fx_az_leaf(p, 2, FX_AZ_GRANTED, 0));
    CHECK_STR(blame(p, root, &active), "leaf 2");
    CHECK_INT(active, 1);
    /* RequireNone whose matching child is an All of two: that All. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    none = fx_az_container(p, FX_AZ_OR, 1, &k1);
    fx_az_append(root, none);
    all = fx_az_container(p, FX_AZ_AND, 0, &k2);
    fx_az_append(none, all);
    fx_az_append(all, fx_az_leaf(p, 1, FX_AZ_GRANTED, 0));
    fx_az_append(all, fx_az_leaf(p, 2, FX_AZ_GRANTED, 0));
    CHECK_STR(blame(p, root, &active), "container");
    CHECK_INT(active, 1);

    /* All denies through an Any with one refusal: followed down. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    any = fx_az_container(p, FX_AZ_OR, 0, &k1);
    fx_az_append(root, any);
    fx_az_append(any, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    all = fx_az_container(p, FX_AZ_AND, 0, &k2);
    fx_az_append(any, all);
    fx_az_append(all, fx_az_leaf(p, 2, FX_AZ_GRANTED, 1));
    CHECK_STR(blame(p, root, &active), "leaf 2");
}

static void test_refusals(apr_pool_t *p)
{
    fx_az_node *root, *all, *none;
    int k1, k2;

    /* All in One WP Security's two blacklists at the top of one .htaccess:
     * Any{ All{all granted, not ip X}, All{all granted, not env bad_bot} }
     * from a banned address as a bad bot: both refuse by name. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    all = fx_az_container(p, FX_AZ_AND, 0, &k1);
    fx_az_append(root, all);
    fx_az_append(all, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    fx_az_append(all, fx_az_leaf(p, 1, FX_AZ_GRANTED, 1));
    all = fx_az_container(p, FX_AZ_AND, 0, &k2);
    fx_az_append(root, all);
    fx_az_append(all, fx_az_leaf(p, 2, FX_AZ_GRANTED, 0));
    fx_az_append(all, fx_az_leaf(p, 3, FX_AZ_GRANTED, 1));
    CHECK_STR(refusals(p, root), "1,3");
    /* the same address as a good bot: the second All grants, so the Any
     * does (nothing refused) */
    root->last->last->raw = FX_AZ_DENIED;
    CHECK_STR(refusals(p, root), "");
    /* a ban inside an All that fails beside a rule that did not grant */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    all = fx_az_container(p, FX_AZ_AND, 0, &k1);
    fx_az_append(root, all);
    fx_az_append(all, fx_az_leaf(p, 1, FX_AZ_GRANTED, 0));
    fx_az_append(all, fx_az_leaf(p, 2, FX_AZ_GRANTED, 1));
    CHECK_STR(refusals(p, root), "2");

    /* Rules that merely did not grant, and Require all denied: none. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    fx_az_append(root, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    root->last->absolute = 1;
    CHECK_STR(refusals(p, root), "");

    /* RequireNone: its matching rule. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    fx_az_append(root, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    none = fx_az_container(p, FX_AZ_OR, 1, &k1);
    fx_az_append(root, none);
    fx_az_append(none, fx_az_leaf(p, 1, FX_AZ_DENIED, 0));
    fx_az_append(none, fx_az_leaf(p, 2, FX_AZ_GRANTED, 0));
    CHECK_STR(refusals(p, root), "2");
}

static void test_grants_with(apr_pool_t *p)
{
    fx_az_node *root, *all, *any, *leaf;
    int k1, k2;

    /* Require local in a <Directory>: one more granting rule beside it
     * lets the client in. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    leaf = fx_az_leaf(p, 0, FX_AZ_DENIED, 0);
    fx_az_append(root, leaf);
    fx_az_evaluate(root);
    CHECK(fx_az_parent(root, leaf) == root);
    CHECK(fx_az_parent(root, root) == NULL);
    CHECK_INT(fx_az_grants_with(p, root, root), 1);
    /* ... and the tree is as it was */
    CHECK(root->first == leaf && root->last == leaf && leaf->next == NULL);
    CHECK_INT(root->result, FX_AZ_DENIED);

    /* Inside a RequireAll next to a matched "not": still refused. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    all = fx_az_container(p, FX_AZ_AND, 0, &k1);
    fx_az_append(root, all);
    fx_az_append(all, fx_az_leaf(p, 0, FX_AZ_DENIED, 0));
    fx_az_append(all, fx_az_leaf(p, 1, FX_AZ_GRANTED, 1));
    fx_az_evaluate(root);
    CHECK_INT(fx_az_grants_with(p, root, root), 1);
    CHECK_INT(fx_az_grants_with(p, root, all), 0);

    /* An AND merge of two levels: granting in the second alone is not
     * enough while the first denies. */
    root = fx_az_container(p, FX_AZ_AND, 0, NULL);
    any = fx_az_container(p, FX_AZ_OR, 0, &k1);
    fx_az_append(root, any);
    fx_az_append(any, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    all = fx_az_container(p, FX_AZ_OR, 0, &k2);
    fx_az_append(root, all);
    leaf = fx_az_leaf(p, 1, FX_AZ_DENIED, 0);
    fx_az_append(all, leaf);
    fx_az_evaluate(root);
    CHECK(fx_az_parent(root, leaf) == all);
    CHECK_INT(fx_az_grants_with(p, root, all), 1);
    any->first->raw = FX_AZ_DENIED;
    fx_az_evaluate(root);
    CHECK_INT(fx_az_grants_with(p, root, all), 0);
}

static void test_grants_if(apr_pool_t *p)
{
    fx_az_node *root, *all, *meth, *ip, *bot;
    int k1;

    /* <RequireAll> Require method GET; Require ip ... </RequireAll>: the
     * method added to its line lets the request in while the address
     * grants, and not otherwise. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    all = fx_az_container(p, FX_AZ_AND, 0, &k1);
    fx_az_append(root, all);
    meth = fx_az_leaf(p, 0, FX_AZ_DENIED, 0);
    ip = fx_az_leaf(p, 1, FX_AZ_GRANTED, 0);
    fx_az_append(all, meth);
    fx_az_append(all, ip);
    fx_az_evaluate(root);
    CHECK_INT(fx_az_grants_if(root, meth, FX_AZ_GRANTED, 0), 1);
    /* restored: the leaf and every result as before */
    CHECK_INT(meth->raw, FX_AZ_DENIED);
    CHECK_INT(root->result, FX_AZ_DENIED);
    ip->raw = FX_AZ_DENIED;
    fx_az_evaluate(root);
    CHECK_INT(fx_az_grants_if(root, meth, FX_AZ_GRANTED, 0), 0);
    /* a <Limit> no longer covering the method: granted inside an "all" */
    ip->raw = FX_AZ_GRANTED;
    fx_az_evaluate(root);
    CHECK_INT(fx_az_grants_if(root, meth, FX_AZ_NEUTRAL, 0), 1);
    /* ... neutral alone in an "any": httpd's neutral is a 403 */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    meth = fx_az_leaf(p, 0, FX_AZ_DENIED, 0);
    fx_az_append(root, meth);
    fx_az_evaluate(root);
    CHECK_INT(fx_az_grants_if(root, meth, FX_AZ_NEUTRAL, 0), 0);

    /* Require all granted + Require not env bad_bot in a RequireAll: with
     * the variable unset the "not" is neutral, the request granted. */
    root = fx_az_container(p, FX_AZ_OR, 0, NULL);
    all = fx_az_container(p, FX_AZ_AND, 0, &k1);
    fx_az_append(root, all);
    fx_az_append(all, fx_az_leaf(p, 0, FX_AZ_GRANTED, 0));
    bot = fx_az_leaf(p, 1, FX_AZ_GRANTED, 1);
    fx_az_append(all, bot);
    fx_az_evaluate(root);
    CHECK_INT(root->result, FX_AZ_DENIED);
    CHECK_INT(fx_az_grants_if(root, bot, FX_AZ_DENIED, 1), 1);
    CHECK_INT(bot->negate, 1);
    CHECK_INT(root->result, FX_AZ_DENIED);
}

static void test_protection_and_scope(apr_pool_t *p)
{
    CHECK_STR(fx_az_protection_of("/srv/www/.git/config"), "vcs");
    CHECK_STR(fx_az_protection_of("/srv/www/a/.svn/entries"), "vcs");
    CHECK_STR(fx_az_protection_of("/srv/www/.htaccess"), "dotfiles");
    CHECK_STR(fx_az_protection_of("/srv/www/.htpasswd"), "secret-file");
    CHECK_STR(fx_az_protection_of("/srv/www/.env"), "secret-file");
    CHECK_STR(fx_az_protection_of("/srv/www/wp-config.php"), "secret-file");
    CHECK_STR(fx_az_protection_of("/srv/www/site.key"), "secret-file");
    CHECK_STR(fx_az_protection_of("/srv/www/index.php~"), "backup");
    CHECK_STR(fx_az_protection_of("/srv/www/db.sql"), "backup");
    CHECK_STR(fx_az_protection_of("/srv/www/index.php.BAK"), "backup");
    CHECK_STR(fx_az_protection_of("/srv/www/.hidden/x.txt"), "dotfiles");
    CHECK(fx_az_protection_of("/srv/www/index.php") == NULL);
    CHECK(fx_az_protection_of("/srv/www/.well-known/acme") == NULL);
    CHECK(fx_az_protection_of("/srv/www/a..b/x") == NULL);
    CHECK(fx_az_protection_of(NULL) == NULL);

    CHECK_STR(fx_az_target_dir(p, "/srv/backup/x.txt", 0), "/srv/backup");
    CHECK_STR(fx_az_target_dir(p, "/srv/backup/", 1), "/srv/backup");
    CHECK_STR(fx_az_target_dir(p, "/x.txt", 0), "/");
    CHECK_STR(fx_az_target_dir(p, "/a//b", 0), "/a");
    CHECK_STR(fx_az_target_dir(p, "//b", 0), "/");
    CHECK_INT(fx_az_is_ancestor("/", "/srv/backup"), 1);
    CHECK_INT(fx_az_is_ancestor("/srv/", "/srv/backup"), 1);
    CHECK_INT(fx_az_is_ancestor("/srv", "/srv/backup"), 1);
    CHECK_INT(fx_az_is_ancestor("/srv/backup", "/srv/backup"), 0);
    CHECK_INT(fx_az_is_ancestor("/sr", "/srv/backup"), 0);
    CHECK_INT(fx_az_is_ancestor("/srv/backup/x", "/srv/backup"), 0);
    CHECK_INT(fx_az_is_ancestor("/", "/"), 0);
}

static void test_compat(apr_pool_t *p)
{
    apr_sockaddr_t *sa;
    fx_cm_client c;
    apr_array_header_t *items;
    const char *host = NULL;
    int hs = 0;

    CHECK_INT(fx_cm_order_parse("Allow,Deny"), FX_CM_ALLOW_DENY);
    CHECK_INT(fx_cm_order_parse("deny,allow"), FX_CM_DENY_ALLOW);
    CHECK_INT(fx_cm_order_parse("mutual-failure"), FX_CM_MUTUAL);
    CHECK_INT(fx_cm_order_parse("deny, allow"), -1);

    CHECK(fx_cm_parse(p, "10.0.0.1") == NULL);          /* no "from" */
    CHECK(fx_cm_parse(p, "from") == NULL);
    items = fx_cm_parse(p, "from 10.0.0.0/8 env=good env=!bad example.org 127.0.0.1 all");
    CHECK(items && items->nelts == 6);
    CHECK_INT(APR_ARRAY_IDX(items, 0, fx_cm_item).type, FX_CM_IP);
    CHECK_INT(APR_ARRAY_IDX(items, 1, fx_cm_item).type, FX_CM_ENV);
    CHECK_INT(APR_ARRAY_IDX(items, 2, fx_cm_item).type, FX_CM_NENV);
    CHECK_INT(APR_ARRAY_IDX(items, 3, fx_cm_item).type, FX_CM_HOST);
    CHECK_INT(APR_ARRAY_IDX(items, 4, fx_cm_item).type, FX_CM_IP);
    CHECK_INT(APR_ARRAY_IDX(items, 5, fx_cm_item).type, FX_CM_ALL);

    CHECK(fx_cm_in_domain("example.org", "www.example.org"));
    CHECK(fx_cm_in_domain(".example.org", "www.example.org"));
    CHECK(fx_cm_in_domain("www.example.org", "WWW.example.org"));
    CHECK(!fx_cm_in_domain("ample.org", "www.example.org"));
    CHECK(!fx_cm_in_domain("www.example.org", "example.org"));

    apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 80, 0, p);
    memset(&c, 0, sizeof(c));
    c.addr = sa;
    c.env = env_of;
    c.host = host_of;
    c.baton = NULL;
    /* env=!bad matches first: "bad" is unset. */
    CHECK_INT(fx_cm_first_match(items, &c, &hs, &host), 2);
    items = fx_cm_parse(p, "from 10.0.0.0/8 example.org 127.0.0.0/255.0.0.0");
    hs = 0;
    CHECK_INT(fx_cm_first_match(items, &c, &hs, &host), 1);
    CHECK(host && strcmp(host, "www.example.org") == 0);
    items = fx_cm_parse(p, "from 10.0.0.0/8 192.168");
    hs = 0;
    CHECK_INT(fx_cm_first_match(items, &c, &hs, &host), -1);
    c.baton = (void *)"1";
    items = fx_cm_parse(p, "from env=good");
    CHECK_INT(fx_cm_first_match(items, &c, &hs, &host), 0);

    CHECK(fx_cm_denied(FX_CM_ALLOW_DENY, 0, 0));
    CHECK(!fx_cm_denied(FX_CM_ALLOW_DENY, 1, 0));
    CHECK(fx_cm_denied(FX_CM_ALLOW_DENY, 1, 1));
    CHECK(!fx_cm_denied(FX_CM_DENY_ALLOW, 0, 0));
    CHECK(fx_cm_denied(FX_CM_DENY_ALLOW, 0, 1));
    CHECK(!fx_cm_denied(FX_CM_DENY_ALLOW, 1, 1));
    CHECK(fx_cm_denied(FX_CM_MUTUAL, 0, 0));
    CHECK(!fx_cm_denied(FX_CM_MUTUAL, 1, 0));
    CHECK(fx_cm_denied(FX_CM_MUTUAL, 1, 1));
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_eval(p);
    test_blame(p);
    test_refusals(p);
    test_grants_with(p);
    test_grants_if(p);
    test_protection_and_scope(p);
    test_compat(p);
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
