/* fx_errorlog.c — keeps the error-log lines httpd wrote for a request (by AH
 * number), so the explanation can refer to them and read the OS error (e.g.
 * EACCES) they carry.  httpd calls this hook only for lines it actually
 * wrote, after writing them; nothing here changes or suppresses a line. */
#include <string.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "http_core.h"
#include "fx_private.h"

#define FX_LOGGED_MAX_LEN 512

/* "AH01630: ..." -> 1630; 0 when the line carries no AH number. */
static int fx_parse_ah(const char *msg)
{
    int i, n = 0;
    if (!msg || msg[0] != 'A' || msg[1] != 'H') {
        return 0;
    }
    for (i = 2; i < 7; i++) {
        if (!apr_isdigit(msg[i])) {
            return 0;
        }
        n = n * 10 + (msg[i] - '0');
    }
    return msg[7] == ':' ? n : 0;
}

static void fx_error_log(const ap_errorlog_info *info, const char *errstr)
{
    request_rec *r, *top;
    fx_req_state *st;
    fx_logged *l;
    int ah;

    if (!info->r || info->level < 0 || info->level > APLOG_WARNING
        || info->module_index == forbidden_explain_module.module_index) {
        return;
    }
    /* (ModSecurity's lines carry no AH number: fx_waf.c keeps those.) */
    ah = fx_parse_ah(errstr);
    if (!ah) {
        return;
    }
    r = (request_rec *)info->r;
    for (top = r; top->main; top = top->main)
        ;
    st = fx_state_ensure(top);
    if (st->n_logged >= FX_MAX_LOGGED) {
        return;
    }
    l = &st->logged[st->n_logged++];
    l->ah = ah;
    l->level = info->level;
    l->apr_status = info->status;
    l->message = apr_pstrndup(top->pool, errstr, FX_LOGGED_MAX_LEN);
    l->from_subrequest = (r != top);
}

const fx_logged *fx_logged_find(const fx_req_state *st, int ah)
{
    int i;
    for (i = st ? st->n_logged - 1 : -1; i >= 0; i--) {
        if (st->logged[i].ah == ah) {
            return &st->logged[i];
        }
    }
    return NULL;
}

void fx_errorlog_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_error_log(fx_error_log, NULL, NULL, APR_HOOK_MIDDLE);
}
