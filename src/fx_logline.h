/* fx_logline.h — one error-log line in httpd 2.4's default format, composed
 * without httpd (fx_report.c fills in the parts and writes it).
 *
 * Pure functions: no httpd dependency, unit tested in tests/unit.
 */
#ifndef FX_LOGLINE_H
#define FX_LOGLINE_H

#include <apr.h>

/* The parts of a line, as httpd's do_errorlog_default() lays them out:
 * [time] [module:level] [pid P:tid T] [client ip:port] message, referer: R */
typedef struct {
    const char *time;           /* ap_recent_ctime_ex() with microseconds */
    const char *module;         /* short module name */
    const char *level;          /* "warn", "error", ... */
    const char *pid;
    const char *tid;            /* NULL: no ":tid" part */
    const char *peer_word;      /* "client" or "remote" */
    const char *ip;
    int port;
    const char *message;        /* already log-safe */
    const char *referer;        /* already escaped, or NULL */
} fx_logline;

/* Writes the line and its "\n" into buf (cap bytes), cut like httpd cuts a
 * line to its MAX_STRING_LEN buffer; returns the length without the NUL. */
apr_size_t fx_logline_compose(char *buf, apr_size_t cap, const fx_logline *l);

#endif
