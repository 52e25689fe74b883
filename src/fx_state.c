/* fx_state.c — the per-request state the hooks fill in and the request id.
 * The state is created only when something worth explaining happens, so an
 * allowed request never allocates it. */
#include <string.h>
#include "apr_strings.h"
#include "apr_sha1.h"
#include "apr_general.h"
#include "http_request.h"
#include "http_config.h"
#include "http_log.h"
#include "fx_private.h"

fx_req_state *fx_state_ensure(request_rec *r)
{
    fx_req_state *st = fx_state_get(r);
    if (!st) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &forbidden_explain_module, st);
    }
    return st;
}

const fx_origin *fx_state_cause(const fx_req_state *st, int *via_subreq)
{
    const fx_origin *o = st->has_origin ? &st->origin : NULL;
    int sub = o && st->has_sub_origin && !o->returned_ok && o->module
              && strcmp(o->module, "mod_dir.c") == 0;
    if (via_subreq) {
        *via_subreq = sub;
    }
    return sub ? &st->sub_origin : o;
}

int fx_enabled(const request_rec *r)
{
    /* A failed directory walk leaves the vhost default in per_dir_config;
     * the sections it stopped in are replayed only when one of them can
     * say otherwise. */
    fx_server_conf *sc = ap_get_module_config(r->server->module_config,
                                              &forbidden_explain_module);
    fx_dir_conf *dc = sc->toggled_in_sections
                      ? fx_fs_walk_dir_conf((request_rec *)r) : NULL;
    if (!dc) {
        dc = fx_dir_get(r);
    }
    return !dc || dc->enabled != 0;
}

/* The key of the fallback id: random, drawn once per generation in the
 * parent (post_config) before any child exists, read-only afterwards. */
static unsigned char fx_id_key[16];
static int fx_id_key_ready;

static int fx_state_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    fx_id_key_ready = apr_generate_random_bytes(fx_id_key, sizeof(fx_id_key))
                      == APR_SUCCESS;
    if (!fx_id_key_ready) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "forbidden_explain: no "
                     "random bytes for the request-id key; the fallback "
                     "Forbidden-Explain-Id is then a hash without a secret");
    }
    return OK;
}

void fx_state_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(fx_state_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}

/* Our own id: "fx-" and 32 hex digits of SHA-1(key, time, connection id,
 * pid, keepalives).  The inputs make it unique without any shared counter
 * (a thread slot serves one connection at a time, and that connection
 * counts its requests); the secret key makes it opaque: it says nothing
 * about pid, time or traffic, and cannot be predicted.  128 bits of a
 * keyed hash collide as rarely as random UUIDs. */
static const char *fx_opaque_id(request_rec *r, const request_rec *top)
{
    static const char hex[] = "0123456789abcdef";
    struct {
        apr_uint64_t time;
        apr_uint64_t conn_id;
        apr_int64_t pid;
        apr_int64_t keepalives;
    } in;
    apr_sha1_ctx_t sha;
    unsigned char d[APR_SHA1_DIGESTSIZE];
    char *out = apr_palloc(r->pool, 3 + 32 + 1), *o = out;
    int i;

    memset(&in, 0, sizeof(in));
    in.time = (apr_uint64_t)top->request_time;
    in.conn_id = (apr_uint64_t)top->connection->id;
    in.pid = (apr_int64_t)getpid();
    in.keepalives = (apr_int64_t)top->connection->keepalives;
    apr_sha1_init(&sha);
    /* key and inputs fit one SHA-1 block with its padding (48 bytes): half
     * the work of a key on both sides, as opaque (the id proves nothing,
     * so length extension is no concern; the key only hides the inputs) */
    apr_sha1_update_binary(&sha, fx_id_key, sizeof(fx_id_key));
    apr_sha1_update_binary(&sha, (const unsigned char *)&in, sizeof(in));
    apr_sha1_final(d, &sha);
    *o++ = 'f';
    *o++ = 'x';
    *o++ = '-';
    for (i = 0; i < 16; i++) {
        *o++ = hex[d[i] >> 4];
        *o++ = hex[d[i] & 15];
    }
    *o = '\0';
    return out;
}

/* mod_unique_id's id when it is loaded, else an opaque one of ours
 * (fx_opaque_id).  One per client request: sub-requests and internal
 * redirects share the id of the request the client sent. */
const char *fx_request_id(request_rec *r, fx_req_state *st)
{
    const char *id;
    request_rec *top = r;

    if (st->request_id) {
        return st->request_id;
    }
    while (top->prev) {
        top = top->prev;
    }
    while (top->main) {
        top = top->main;
    }
    id = apr_table_get(top->subprocess_env, "UNIQUE_ID");
    if (!id) {
        id = apr_table_get(r->subprocess_env, "REDIRECT_UNIQUE_ID");
    }
    if (!id) {
        id = fx_opaque_id(r, top);
    }
    st->request_id = id;
    return id;
}
