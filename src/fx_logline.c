/* fx_logline.c — composes an error-log line in httpd 2.4's default format
 * (server/log.c, do_errorlog_default), so the entry's line can be written
 * without ap_log_rerror copying and escaping a message that is already
 * log-safe (see fx_report.c for when that is allowed). */
#include <stdio.h>
#include <string.h>
#include "fx_logline.h"

typedef struct {
    char *buf;
    apr_size_t len, room;       /* room: bytes usable before the "\n" */
} fx_line_buf;

static void fx_put(fx_line_buf *b, const char *s)
{
    apr_size_t n = strlen(s);
    if (n > b->room - b->len) {
        n = b->room - b->len;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

apr_size_t fx_logline_compose(char *buf, apr_size_t cap, const fx_logline *l)
{
    fx_line_buf b;
    char port[16];

    if (cap < 2) {
        if (cap) {
            buf[0] = '\0';
        }
        return 0;
    }
    b.buf = buf;
    b.len = 0;
    b.room = cap - 2;
    fx_put(&b, "[");
    fx_put(&b, l->time);
    fx_put(&b, "] [");
    fx_put(&b, l->module);
    fx_put(&b, ":");
    fx_put(&b, l->level);
    fx_put(&b, "] [pid ");
    fx_put(&b, l->pid);
    if (l->tid) {
        fx_put(&b, ":tid ");
        fx_put(&b, l->tid);
    }
    fx_put(&b, "] [");
    fx_put(&b, l->peer_word);
    fx_put(&b, " ");
    fx_put(&b, l->ip);
    snprintf(port, sizeof(port), ":%d] ", l->port);
    fx_put(&b, port);
    fx_put(&b, l->message);
    if (l->referer && *l->referer) {
        fx_put(&b, ", referer: ");
        fx_put(&b, l->referer);
    }
    buf[b.len++] = '\n';
    buf[b.len] = '\0';
    return b.len;
}
