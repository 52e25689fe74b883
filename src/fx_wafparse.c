/* fx_wafparse.c — parses ModSecurity's denial message (see fx_wafparse.h).
 * ModSecurity writes tags as [name "value"] with '"' and '\' inside values
 * escaped by a backslash. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_wafparse.h"

const char *fx_waf_tag(apr_pool_t *p, const char *msg, const char *name)
{
    const char *open = apr_pstrcat(p, "[", name, " \"", NULL);
    const char *s = msg ? strstr(msg, open) : NULL;
    char *out, *o;

    if (!s) {
        return NULL;
    }
    s += strlen(open);
    out = o = apr_palloc(p, strlen(s) + 1);
    for (; *s && *s != '"'; s++) {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) {
            s++;
        }
        *o++ = *s;
    }
    if (*s != '"') {
        return NULL;    /* cut off before the closing quote */
    }
    *o = '\0';
    return out;
}

/* A decimal number of at most 9 digits, else 0 (unknown): atoi() is
 * undefined on overflow and turned "(phase 99999999999)" into -1. */
static int fx_waf_int(const char *s)
{
    int n = 0, k;
    for (k = 0; k < 9 && apr_isdigit(s[k]); k++) {
        n = n * 10 + (s[k] - '0');
    }
    return (k == 0 || apr_isdigit(s[k])) ? 0 : n;
}

int fx_waf_parse(apr_pool_t *p, const char *msg, fx_waf_info *out)
{
    static const char head[] = "ModSecurity: Access denied with code ";
    const char *s, *line, *end;

    memset(out, 0, sizeof(*out));
    s = msg ? strstr(msg, head) : NULL;
    if (!s) {
        return 0;
    }
    s += sizeof(head) - 1;
    if (!apr_isdigit(*s)) {
        return 0;
    }
    out->status = fx_waf_int(s);
    s = strstr(s, "(phase ");
    if (s) {
        out->phase = fx_waf_int(s + 7);
        end = strchr(s, ')');
        if (end && end[1] == '.') {
            const char *tags = strstr(end, " [");
            const char *from = end + 2;
            while (*from == ' ') {
                from++;
            }
            out->match = tags && tags > from
                         ? apr_pstrndup(p, from, tags - from)
                         : (tags ? NULL : apr_pstrdup(p, from));
        }
    }
    out->file = fx_waf_tag(p, msg, "file");
    line = fx_waf_tag(p, msg, "line");
    out->line = line ? fx_waf_int(line) : 0;
    out->id = fx_waf_tag(p, msg, "id");
    out->msg = fx_waf_tag(p, msg, "msg");
    return 1;
}
