/* fx_logline.c — composes an error-log line in httpd 2.4's default format
 * (server/log.c, do_errorlog_default), so the entry's line can be written
 * without ap_log_rerror copying and escaping a message that is already
 * log-safe (see fx_report.c for when that is allowed). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "fx_logline.h"

typedef struct {
    char *buf;
    apr_size_t len, room;       /* room: bytes usable before the "\n" */
} fx_line_buf;

/* Appends each string up to a NULL, cutting at the room left. */
static void fx_put(fx_line_buf *b, ...)
{
    va_list ap;
    const char *s;

    va_start(ap, b);
    while ((s = va_arg(ap, const char *)) != NULL) {
        apr_size_t n = strlen(s);
        if (n > b->room - b->len) {
            n = b->room - b->len;
        }
        memcpy(b->buf + b->len, s, n);
        b->len += n;
    }
    va_end(ap);
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
    snprintf(port, sizeof(port), ":%d] ", l->port);
    fx_put(&b, "[", l->time, "] [", l->module, ":", l->level, "] [pid ",
           l->pid, NULL);
    if (l->tid) {
        fx_put(&b, ":tid ", l->tid, NULL);
    }
    fx_put(&b, "] [", l->peer_word, " ", l->ip, port, l->message, NULL);
    if (l->referer && *l->referer) {
        fx_put(&b, ", referer: ", l->referer, NULL);
    }
    buf[b.len++] = '\n';
    buf[b.len] = '\0';
    return b.len;
}
