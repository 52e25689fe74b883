/* fx_state.c — the per-request state the hooks fill in and the request id.
 * The state is created only when something worth explaining happens, so an
 * allowed request never allocates it. */
#include <string.h>
#include "apr_strings.h"
#include "http_request.h"
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

/* mod_unique_id's id when it is loaded, else httpd's own log id (%L), else
 * one of ours: time, pid, connection id and the connection's request count
 * make it unique without any shared counter. */
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
        id = apr_psprintf(r->pool, "fx-%" APR_UINT64_T_HEX_FMT "-%" APR_PID_T_FMT
                          "-%ld-%d", (apr_uint64_t)top->request_time,
                          getpid(), top->connection->id,
                          top->connection->keepalives);
    }
    st->request_id = id;
    return id;
}
