/* fx_conftree.c — where the directives the explainers ask about are: their
 * file, line and sections, read from httpd's parsed configuration tree
 * (ap_conftree) in post_config and from the request's .htaccess files once
 * a 403 is certain.
 *
 * The module adds no directive name to httpd's command table for this (the
 * old "shadow" directives did, which made <IfDirective Order> true without
 * mod_access_compat), so a configuration means the same with the module
 * loaded, whatever order the modules load in.
 *
 * How records reach a request: each section of the tree is paired with the
 * per-dir config vector core built for it (the vector's path or regex, and
 * file order among equal ones, identify it; an <If> its expression's
 * file:line), and the section's records are kept in a table keyed by that
 * vector, built once per generation and read-only in the children.  Once a
 * 403 is certain, the sections that applied are taken from httpd's walk
 * caches (what the walks did, not a re-simulation of them), followed back
 * from r->per_dir_config to the server's defaults, and their records joined
 * in merge order.  .htaccess files are read again only then, their vectors
 * taken from r->htaccess.  Allowed requests pay nothing: no slot, no merge,
 * no record. */
#include <string.h>
#include "apr_strings.h"
#include "apr_hash.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cfgtree.h"
#include "fx_private.h"

/* The directives explainers look up, spelled as their modules spell them. */
static const char *const fx_indexed[] = {
    "Options", "AllowOverride", "DirectoryIndex", "SetHandler", "AddHandler",
    "RemoveHandler", "Order", "Allow", "Deny", "Satisfy", "Require",
    "AuthMerging", "AuthzSendForbiddenOnFailure", "RewriteEngine",
    "RewriteOptions", "RewriteBase", "RewriteCond", "RewriteRule",
    "SSLRequireSSL", "SSLRequire", "SSLVerifyClient", "SSLOptions",
    "SSLVerifyDepth", "SSLCipherSuite",
    "ProxyBlock", "AllowCONNECT",
    /* mod_alias's refusals: Redirect 403 and RedirectMatch 403 (fx_alias.c
     * replays its lists, so every line of them, whatever its status) */
    "Redirect", "RedirectMatch", "RedirectTemp", "RedirectPermanent", NULL
};

/* Indexed in .htaccess files only (read at 403 time): the main
 * configuration's are walked once by fx_authz_env.c, and the Bad Bot
 * Blocker's 8,000 lines would weigh on every section's records. */
static const char *const fx_indexed_htaccess[] = {
    "SetEnvIf", "SetEnvIfNoCase", "BrowserMatch", "BrowserMatchNoCase", NULL
};

static const char *fx_indexed_ht_name(const char *directive)
{
    int i;
    for (i = 0; fx_indexed_htaccess[i]; i++) {
        if (!strcasecmp(directive, fx_indexed_htaccess[i])) {
            return fx_indexed_htaccess[i];
        }
    }
    return NULL;
}

static const char *fx_indexed_name(const char *directive)
{
    int i;
    for (i = 0; fx_indexed[i]; i++) {
        if (!strcasecmp(directive, fx_indexed[i])) {
            return fx_indexed[i];
        }
    }
    return NULL;
}

typedef enum {
    FX_NODE_PLAIN,          /* a directive */
    FX_NODE_DIR,            /* <Directory>, <DirectoryMatch> */
    FX_NODE_URL,            /* <Location>, <LocationMatch> */
    FX_NODE_FILE,           /* <Files>, <FilesMatch> */
    FX_NODE_IF,             /* <If>, <ElseIf>, <Else> */
    FX_NODE_VHOST,
    FX_NODE_LIMIT,          /* <Limit>, <LimitExcept>: same section */
    FX_NODE_AUTHZ,          /* <RequireAll|Any|None>: same section */
    FX_NODE_OPAQUE          /* any other container: not ours to read */
} fx_node_kind;

static fx_node_kind fx_kind_of(const ap_directive_t *d)
{
    const char *n = d->directive;
    if (!n || n[0] != '<') {
        return FX_NODE_PLAIN;
    }
    n++;
    if (!strcasecmp(n, "Directory") || !strcasecmp(n, "DirectoryMatch")) {
        return FX_NODE_DIR;
    }
    if (!strcasecmp(n, "Location") || !strcasecmp(n, "LocationMatch")) {
        return FX_NODE_URL;
    }
    if (!strcasecmp(n, "Files") || !strcasecmp(n, "FilesMatch")) {
        return FX_NODE_FILE;
    }
    if (!strcasecmp(n, "If") || !strcasecmp(n, "ElseIf")
        || !strcasecmp(n, "Else")) {
        return FX_NODE_IF;
    }
    if (!strcasecmp(n, "VirtualHost")) {
        return FX_NODE_VHOST;
    }
    if (!strcasecmp(n, "Limit") || !strcasecmp(n, "LimitExcept")) {
        return FX_NODE_LIMIT;
    }
    if (!strcasecmp(n, "RequireAll") || !strcasecmp(n, "RequireAny")
        || !strcasecmp(n, "RequireNone")) {
        return FX_NODE_AUTHZ;
    }
    return FX_NODE_OPAQUE;
}

/* -------------------------------------------------------------------- */
/* pairing sections with core's vectors                                  */

/* The path core stored for a section (core.c dirsection/urlsection/
 * filesection), computed from the node the same way; NULL when core would
 * have refused it. */
static const char *fx_section_key(apr_pool_t *p, const ap_directive_t *d,
                                  fx_node_kind kind, int *is_regex)
{
    const char *args = d->args ? d->args : "";
    const char *endp = ap_strrchr_c(args, '>');
    const char *a = endp ? apr_pstrmemdup(p, args, endp - args) : args;
    const char *word = ap_getword_conf(p, &a);
    int match = strlen(d->directive) > 6
                && !strcasecmp(d->directive + strlen(d->directive) - 5, "Match");
    char *merged;

    *is_regex = match;
    if (!match && !strcmp(word, "~")) {
        *is_regex = 1;
        return ap_getword_conf(p, &a);
    }
    if (match || kind == FX_NODE_URL) {
        return word;
    }
    if (kind == FX_NODE_DIR) {
        apr_status_t rv;
        if (!strcmp(word, "/")) {
            return word;
        }
        rv = apr_filepath_merge(&merged, NULL, word, APR_FILEPATH_TRUENAME, p);
        if (rv != APR_SUCCESS && rv != APR_EPATHWILD) {
            return NULL;
        }
        return merged[strlen(merged) - 1] == '/'
               ? merged : apr_pstrcat(p, merged, "/", NULL);
    }
    if (apr_filepath_merge(&merged, "", word, 0, p) != APR_SUCCESS) {
        return NULL;
    }
    return merged;
}

static int fx_node_is_vector(apr_pool_t *p, const ap_directive_t *d,
                             fx_node_kind kind, ap_conf_vector_t *v)
{
    core_dir_config *c = ap_get_core_module_config(v);
    const char *key;
    int is_regex;

    if (!c) {
        return 0;
    }
    if (kind == FX_NODE_IF) {
        /* <If> and <ElseIf> keep their location; an <Else> follows its
         * <If> in both lists, so order pairs it. */
        if (!c->condition) {
            return !strcasecmp(d->directive, "<Else");
        }
        return c->condition->filename && d->filename
               && c->condition->line_number == (unsigned)d->line_num
               && !strcmp(c->condition->filename, d->filename);
    }
    key = fx_section_key(p, d, kind, &is_regex);
    return key && c->d && (c->r != NULL) == is_regex && !strcmp(key, c->d);
}

/* Pairs every vector of vecs not paired yet with the first unpaired node of
 * nodes that describes it.  core sorts <Directory> vectors stably (equal
 * ones keep file order), so taking nodes in file order is exact. */
static void fx_pair(apr_pool_t *p, apr_hash_t *paired,
                    apr_array_header_t *nodes, fx_node_kind kind,
                    apr_array_header_t *vecs,
                    void (*index)(void *baton, const ap_directive_t *d,
                                  ap_conf_vector_t *v),
                    void *baton)
{
    int i, j;
    char *used;

    if (!vecs || !nodes->nelts) {
        return;
    }
    used = apr_pcalloc(p, nodes->nelts);
    for (i = 0; i < vecs->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(vecs, i, ap_conf_vector_t *);
        if (apr_hash_get(paired, &v, sizeof(v))) {
            continue;
        }
        for (j = 0; j < nodes->nelts; j++) {
            const ap_directive_t *d = APR_ARRAY_IDX(nodes, j,
                                                    const ap_directive_t *);
            if (!used[j] && fx_node_is_vector(p, d, kind, v)) {
                ap_conf_vector_t **key = apr_pmemdup(p, &v, sizeof(v));
                used[j] = 1;
                apr_hash_set(paired, key, sizeof(*key), d);
                index(baton, d, v);
                break;
            }
        }
    }
}

/* -------------------------------------------------------------------- */
/* records of one section                                                */

/* vector -> fx_shadow_list of the main configuration's sections and server
 * defaults; rebuilt in each generation's post_config, read-only after. */
static apr_hash_t *fx_records_by_vector;

typedef struct {
    apr_pool_t *p;
    apr_hash_t *paired;             /* vector -> node, per generation */
    apr_hash_t *records;            /* vector -> fx_shadow_list */
    int in_htaccess;
    const struct htaccess_result *htaccess;
    const apr_table_t *override_list;
    int rewrite_everywhere;     /* mod_rewrite lines in an opaque container */
    int rewrite_sections;       /* sections marked dc->rewrite */
} fx_indexer;

/* The records of one section body in file order; nested sections found on
 * the way are collected for pairing. */
typedef struct {
    fx_shadow_list *head, **tail;
    apr_array_header_t *nodes[FX_NODE_VHOST + 1];
} fx_body;

/* An .htaccess line takes effect only where AllowOverride lets it (else
 * httpd refused it, or skipped it under AllowOverride Nonfatal). */
static int fx_override_allows(const fx_indexer *ix, const char *name)
{
    module *mod = ap_top_module;    /* where the search starts */
    const command_rec *cmd;

    if (!ix->in_htaccess) {
        return 1;                   /* the main configuration was accepted */
    }
    cmd = ap_find_command_in_modules(name, &mod);
    if (!cmd) {
        return 0;
    }
    return (cmd->req_override & ix->htaccess->override)
           || (ix->override_list && apr_table_get(ix->override_list, name));
}

static void fx_body_add(fx_indexer *ix, fx_body *b, const ap_directive_t *d,
                        const char *name, apr_int64_t limited,
                        const char *dir_path)
{
    fx_shadow_rec *rec = apr_pcalloc(ix->p, sizeof(*rec));
    fx_shadow_list *leaf = apr_pcalloc(ix->p, sizeof(*leaf));

    rec->name = name;
    rec->args = d->args ? d->args : "";
    rec->where = d;
    rec->file = d->filename;
    rec->line = d->line_num;
    rec->limited = limited;
    rec->dir_path = dir_path;
    rec->in_htaccess = ix->in_htaccess;
    leaf->rec = rec;
    *b->tail = leaf;
    b->tail = (fx_shadow_list **)&leaf->next;
}

static apr_int64_t fx_limit_mask(apr_pool_t *p, const ap_directive_t *d,
                                 apr_int64_t outer)
{
    const char *args = d->args ? d->args : "";
    const char *endp = ap_strrchr_c(args, '>');
    const char *a = endp ? apr_pstrmemdup(p, args, endp - args) : args;
    apr_int64_t mask = 0;

    while (*a) {
        const char *m = ap_getword_conf(p, &a);
        int num = ap_method_number_of(m);
        if (num != M_INVALID) {
            mask |= AP_METHOD_BIT << num;
        }
    }
    if (!strcasecmp(d->directive, "<LimitExcept")) {
        mask = ~mask;
    }
    return outer & mask;
}

static void fx_scan_body(fx_indexer *ix, fx_body *b, const ap_directive_t *d,
                         apr_int64_t limited, const char *dir_path)
{
    for (; d; d = d->next) {
        fx_node_kind kind = fx_kind_of(d);
        const char *name;
        switch (kind) {
        case FX_NODE_PLAIN:
            name = fx_indexed_name(d->directive);
            if (!name && ix->in_htaccess) {
                name = fx_indexed_ht_name(d->directive);
            }
            if (name && fx_override_allows(ix, d->directive)) {
                fx_body_add(ix, b, d, name, limited, dir_path);
            }
            break;
        case FX_NODE_LIMIT:
            fx_scan_body(ix, b, d->first_child,
                         fx_limit_mask(ix->p, d, limited), dir_path);
            break;
        case FX_NODE_AUTHZ:
            fx_scan_body(ix, b, d->first_child, limited, dir_path);
            break;
        case FX_NODE_OPAQUE:
            break;
        default:
            if (!b->nodes[kind]) {
                b->nodes[kind] = apr_array_make(ix->p, 4,
                                                sizeof(const ap_directive_t *));
            }
            APR_ARRAY_PUSH(b->nodes[kind], const ap_directive_t *) = d;
            break;
        }
    }
}

static void fx_keep(fx_indexer *ix, ap_conf_vector_t *v,
                    fx_shadow_list *records)
{
    ap_conf_vector_t **key = apr_pmemdup(ix->p, &v, sizeof(v));
    apr_hash_set(ix->records, key, sizeof(*key), records);
}

static void fx_index_section(void *baton, const ap_directive_t *d,
                             ap_conf_vector_t *v);

/* Pairs the <Files> and <If> sections found in a body with the vectors core
 * keeps for them in that section's own config. */
static void fx_pair_nested(fx_indexer *ix, fx_body *b, ap_conf_vector_t *v)
{
    core_dir_config *c = ap_get_core_module_config(v);
    static const fx_node_kind nested[] = { FX_NODE_FILE, FX_NODE_IF };
    int i;
    for (i = 0; c && i < 2; i++) {
        if (b->nodes[nested[i]]) {
            fx_pair(ix->p, ix->paired, b->nodes[nested[i]], nested[i],
                    nested[i] == FX_NODE_FILE ? c->sec_file : c->sec_if,
                    fx_index_section, ix);
        }
    }
}

/* Does a body hold a line of mod_rewrite's?  (fx_rewrite.c snapshots what
 * mod_rewrite's hooks are given only where they can act: a request merging
 * no such section, of a server with none at its level, reading no
 * .htaccess, does not pay for it.) */
static int fx_has_rewrite(const fx_shadow_list *l)
{
    for (; l; l = l->next) {
        if (l->rec && !strncasecmp(l->rec->name, "Rewrite", 7)) {
            return 1;
        }
    }
    return 0;
}

/* A container this file does not pair (<Proxy>, a third party's) with a
 * line of mod_rewrite's in it: then every request may meet it. */
static int fx_opaque_rewrite(const ap_directive_t *d, int inside)
{
    for (; d; d = d->next) {
        fx_node_kind kind = fx_kind_of(d);
        if (kind == FX_NODE_PLAIN) {
            if (inside && !strncasecmp(d->directive, "Rewrite", 7)) {
                return 1;
            }
        }
        else if (fx_opaque_rewrite(d->first_child,
                                   inside || kind == FX_NODE_OPAQUE)) {
            return 1;
        }
    }
    return 0;
}

/* One section: its records go into this module's slot of its vector. */
static void fx_index_section(void *baton, const ap_directive_t *d,
                             ap_conf_vector_t *v)
{
    fx_indexer *ix = baton;
    core_dir_config *c = ap_get_core_module_config(v);
    fx_body b;

    memset(&b, 0, sizeof(b));
    b.tail = &b.head;
    fx_scan_body(ix, &b, d->first_child, -1, c ? c->d : NULL);
    fx_keep(ix, v, b.head);
    if (fx_has_rewrite(b.head)) {
        /* httpd makes a module's config of a section only for a section
         * holding that module's directives: this one may have none */
        fx_dir_conf *dc = ap_get_module_config(v, &forbidden_explain_module);
        if (!dc) {
            dc = fx_dir_conf_make(ix->p);
            ap_set_module_config(v, &forbidden_explain_module, dc);
        }
        dc->rewrite = 1;
        ix->rewrite_sections++;
    }
    fx_pair_nested(ix, &b, v);
}

/* The sections of the tree whose own body (its <Limit> and <Require*>
 * blocks included) has a line of mod_rewrite's: each must have been marked
 * by fx_index_section. */
static int fx_body_rewrite(const ap_directive_t *d)
{
    for (; d; d = d->next) {
        fx_node_kind kind = fx_kind_of(d);
        if ((kind == FX_NODE_PLAIN && !strncasecmp(d->directive, "Rewrite", 7))
            || ((kind == FX_NODE_LIMIT || kind == FX_NODE_AUTHZ)
                && fx_body_rewrite(d->first_child))) {
            return 1;
        }
    }
    return 0;
}

static int fx_rewrite_sections(const ap_directive_t *d)
{
    int n = 0;
    for (; d; d = d->next) {
        fx_node_kind kind = fx_kind_of(d);
        if (kind == FX_NODE_OPAQUE || kind == FX_NODE_PLAIN) {
            continue;
        }
        if (kind >= FX_NODE_DIR && kind <= FX_NODE_IF
            && fx_body_rewrite(d->first_child)) {
            n++;
        }
        n += fx_rewrite_sections(d->first_child);
    }
    return n;
}

static int fx_mark_server_rewrite(const fx_indexer *ix, server_rec *s,
                                  int here)
{
    fx_server_conf *sc = ap_get_module_config(s->module_config,
                                              &forbidden_explain_module);
    if (sc) {
        sc->rewrite = here || ix->rewrite_everywhere;
    }
    return !sc || sc->rewrite;
}

/* -------------------------------------------------------------------- */
/* the main configuration, once per generation                           */

static const ap_directive_t *fx_vhost_node(const ap_directive_t *top,
                                           const server_rec *s)
{
    const ap_directive_t *d;
    for (d = top; d; d = d->next) {
        if (fx_kind_of(d) == FX_NODE_VHOST && d->filename && s->defn_name
            && (unsigned)d->line_num == s->defn_line_number
            && !strcmp(d->filename, s->defn_name)) {
            return d;
        }
    }
    return NULL;
}

/* A server's own level: its records, and its sections paired with the
 * vectors core keeps in the server (sections of the main server that a
 * virtual host inherits are paired already and skipped). */
static fx_shadow_list *fx_index_server(fx_indexer *ix, server_rec *s,
                                       const ap_directive_t *first)
{
    core_server_config *sc = ap_get_core_module_config(s->module_config);
    fx_body b;

    memset(&b, 0, sizeof(b));
    b.tail = &b.head;
    fx_scan_body(ix, &b, first, -1, NULL);
    if (b.nodes[FX_NODE_DIR]) {
        fx_pair(ix->p, ix->paired, b.nodes[FX_NODE_DIR], FX_NODE_DIR,
                sc->sec_dir, fx_index_section, ix);
    }
    if (b.nodes[FX_NODE_URL]) {
        fx_pair(ix->p, ix->paired, b.nodes[FX_NODE_URL], FX_NODE_URL,
                sc->sec_url, fx_index_section, ix);
    }
    fx_pair_nested(ix, &b, s->lookup_defaults);
    return b.head;
}

void fx_conftree_index(apr_pool_t *pconf, server_rec *main_server)
{
    fx_indexer ix;
    fx_shadow_list *main_records;
    server_rec *s;
    int marked, servers = 1, unpaired;

    memset(&ix, 0, sizeof(ix));
    ix.p = pconf;
    ix.paired = apr_hash_make(pconf);
    ix.records = apr_hash_make(pconf);
    ix.rewrite_everywhere = fx_opaque_rewrite(ap_conftree, 0);
    main_records = fx_index_server(&ix, main_server, ap_conftree);
    fx_keep(&ix, main_server->lookup_defaults, main_records);
    /* RewriteEngine at the main server's level also turns the engine on in
     * its per-dir defaults, which every virtual host inherits */
    marked = fx_mark_server_rewrite(&ix, main_server,
                                    fx_has_rewrite(main_records));
    for (s = main_server->next; s; s = s->next) {
        /* a virtual host's defaults are httpd's merge of the main server's
         * and the host's own */
        const ap_directive_t *vh = fx_vhost_node(ap_conftree, s);
        fx_shadow_list *own = vh ? fx_index_server(&ix, s, vh->first_child)
                                 : NULL;
        fx_keep(&ix, s->lookup_defaults,
                fx_shadow_merge_at(NULL, pconf, main_records, own));
        marked += fx_mark_server_rewrite(&ix, s, fx_has_rewrite(main_records)
                                                 || fx_has_rewrite(own)
                                                 || !vh);
        servers++;
    }
    unpaired = fx_rewrite_sections(ap_conftree) != ix.rewrite_sections;
    if (unpaired) {
        /* a section with mod_rewrite lines was not paired with its
         * vector: do not rely on the marks */
        for (s = main_server; s; s = s->next) {
            fx_mark_server_rewrite(&ix, s, 1);
        }
        marked = servers;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, main_server,
                 "forbidden_explain: mod_rewrite's inputs are kept in %d "
                 "sections and %d of %d servers%s", ix.rewrite_sections,
                 marked, servers, unpaired ? " (all: a section holding "
                 "mod_rewrite lines was not paired)" : "");
    fx_records_by_vector = ix.records;
}

/* The records of one vector: a section of the main configuration, or an
 * .htaccess file read for this request (NULL: none). */
/* An .htaccess file read and found to hold no record. */
static fx_shadow_list fx_empty_list;
static fx_shadow_list *const fx_empty_records = &fx_empty_list;

static fx_shadow_list *fx_records_of(request_rec *r, ap_conf_vector_t *v)
{
    fx_req_state *st = fx_state_get(r);
    fx_shadow_list *l = NULL;
    if (!v) {
        return NULL;
    }
    if (fx_records_by_vector) {
        l = apr_hash_get(fx_records_by_vector, &v, sizeof(v));
    }
    if (!l && st && st->htaccess_records) {
        l = apr_hash_get(st->htaccess_records, &v, sizeof(v));
    }
    return l;
}

const fx_shadow_list *fx_vector_records(request_rec *r, ap_conf_vector_t *v)
{
    return fx_records_of(r, v);
}

/* A section of the main configuration, without a request (fx_audit.c). */
const fx_shadow_list *fx_vector_records_conf(ap_conf_vector_t *v)
{
    return v && fx_records_by_vector
           ? apr_hash_get(fx_records_by_vector, &v, sizeof(v)) : NULL;
}

/* -------------------------------------------------------------------- */
/* .htaccess, once a 403 is certain                                      */

/* server/request.c's walk cache, private there and unchanged since 2.3;
 * each walk leaves one under its request note. */
typedef struct {
    ap_conf_vector_t *matched;
    ap_conf_vector_t *merged;
} fx_walked;

typedef struct fx_walk_cache {
    const char *cached;
    ap_conf_vector_t **dir_conf_tested;
    ap_conf_vector_t *dir_conf_merged;
    ap_conf_vector_t *per_dir_result;
    apr_array_header_t *walked;
    struct fx_walk_cache *prev;
    int count;
} fx_walk_cache;

static const apr_size_t fx_walk_notes[] = {
    AP_NOTE_DIRECTORY_WALK, AP_NOTE_LOCATION_WALK, AP_NOTE_FILE_WALK,
    AP_NOTE_IF_WALK
};

/* The walk whose merge produced result (NULL: none did, or the cache does
 * not look like the one this file knows). */
static const fx_walk_cache *fx_walk_ending_at(request_rec *r,
                                              ap_conf_vector_t *result)
{
    int i, guard;
    for (i = 0; i < (int)(sizeof(fx_walk_notes) / sizeof(fx_walk_notes[0]));
         i++) {
        void **note = ap_get_request_note(r, fx_walk_notes[i]);
        const fx_walk_cache *c = note ? *note : NULL;
        for (guard = 0; c && guard < 64; c = c->prev, guard++) {
            if (c->per_dir_result == result && c->dir_conf_merged != result
                && c->walked && c->walked->elt_size == sizeof(fx_walked)) {
                return c;
            }
        }
    }
    return NULL;
}

/* The override list in force where the walk read an .htaccess: the merged
 * config of the walk step before it (htaccess_result has no usable copy). */
static const apr_table_t *fx_override_list_for(request_rec *r,
                                               ap_conf_vector_t *htaccess)
{
    void **note = ap_get_request_note(r, AP_NOTE_DIRECTORY_WALK);
    const fx_walk_cache *c = note ? *note : NULL;
    int i;
    for (; c; c = c->prev) {
        const fx_walked *w = c->walked ? (const fx_walked *)c->walked->elts
                                       : NULL;
        for (i = 0; w && c->walked->elt_size == sizeof(fx_walked)
                    && i < c->walked->nelts; i++) {
            if (w[i].matched == htaccess) {
                ap_conf_vector_t *before = i ? w[i - 1].merged
                                             : c->dir_conf_merged;
                core_dir_config *cd = before
                                      ? ap_get_core_module_config(before) : NULL;
                return cd ? cd->override_list : NULL;
            }
        }
    }
    return NULL;
}

static const ap_directive_t *fx_read_htaccess(request_rec *r,
                                              const struct htaccess_result *h)
{
    core_server_config *sc = ap_get_core_module_config(
                                 r->server->module_config);
    const char *names = sc->access_name;

    while (names && *names) {
        const char *name = ap_getword_conf(r->pool, &names);
        ap_configfile_t *f = NULL;
        const char *full = NULL;
        if (*name
            && ap_run_open_htaccess(r, h->dir, name, &f, &full) == APR_SUCCESS) {
            cmd_parms parms;
            ap_directive_t *tree = NULL;
            const char *err;
            memset(&parms, 0, sizeof(parms));
            parms.limited = -1;
            parms.override = h->override;
            parms.override_opts = h->override_opts;
            parms.pool = parms.temp_pool = r->pool;
            parms.server = r->server;
            parms.path = apr_pstrdup(r->pool, h->dir);
            parms.config_file = f;
            err = ap_build_config(&parms, r->pool, r->pool, &tree);
            ap_cfg_closefile(f);
            return err ? NULL : tree;
        }
    }
    return NULL;
}

void fx_conftree_htaccess(request_rec *r)
{
    fx_req_state *st = fx_state_ensure(r);
    const struct htaccess_result *h;

    if (!st->htaccess_records) {
        st->htaccess_records = apr_hash_make(r->pool);
    }
    for (h = r->htaccess; h; h = h->next) {
        fx_indexer ix;
        fx_body b;
        const ap_directive_t *tree;
        ap_conf_vector_t *v = h->htaccess;

        if (!v || apr_hash_get(st->htaccess_records, &v, sizeof(v))) {
            continue;               /* nothing read, or indexed already */
        }
        memset(&ix, 0, sizeof(ix));
        ix.p = r->pool;
        ix.paired = apr_hash_make(r->pool);
        ix.records = st->htaccess_records;
        ix.in_htaccess = 1;
        ix.htaccess = h;
        ix.override_list = fx_override_list_for(r, h->htaccess);
        memset(&b, 0, sizeof(b));
        b.tail = &b.head;
        tree = fx_read_htaccess(r, h);
        fx_scan_body(&ix, &b, tree, -1, h->dir);
        /* an entry even when empty: read once */
        fx_keep(&ix, v, b.head ? b.head : fx_empty_records);
        fx_pair_nested(&ix, &b, v);
    }
}

/* The records of every section r's walks merged, in merge order: the walks
 * are followed from r->per_dir_config back to the server's defaults, each
 * walk's cache naming the config it started from and the sections it
 * merged.  NULL with *ok = 0 when a merge cannot be traced to a walk. */
static fx_shadow_list *fx_merged_records(request_rec *r, int *ok)
{
    const fx_walk_cache *chain[64];
    ap_conf_vector_t *at = r->per_dir_config;
    fx_shadow_list *l;
    int n = 0, j;

    *ok = 0;
    while (at != r->server->lookup_defaults) {
        const fx_walk_cache *c = fx_walk_ending_at(r, at);
        if (!c || n == (int)(sizeof(chain) / sizeof(chain[0]))) {
            return NULL;
        }
        chain[n++] = c;
        at = c->dir_conf_merged;
    }
    l = fx_records_of(r, r->server->lookup_defaults);
    while (n--) {
        const fx_walked *w = (const fx_walked *)chain[n]->walked->elts;
        for (j = 0; j < chain[n]->walked->nelts; j++) {
            l = fx_shadow_merge_at(NULL, r->pool, l,
                                   fx_records_of(r, w[j].matched));
        }
    }
    *ok = 1;
    return l;
}

const fx_shadow_list *fx_dir_explained(request_rec *r)
{
    fx_req_state *st = fx_state_ensure(r);
    if (!st->explained_done) {
        fx_conftree_htaccess(r);
        st->explained = fx_merged_records(r, &st->explained_traced);
        st->explained_done = 1;
    }
    return st->explained;
}

apr_array_header_t *fx_records_find(apr_pool_t *p, request_rec *r,
                                    const char *name)
{
    return fx_shadow_find(p, fx_dir_explained(r), name);
}
