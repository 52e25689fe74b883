/* fx_wafparse.h — reads ModSecurity's error-log messages ("Access denied
 * with code N" and "Warning."): status, phase, what matched and the rule's
 * metadata tags ([file] [line] [id] [msg] [data] [severity] [tag]...
 * [unique_id]), and splits CRS's "Matched Data: X found within VAR: VALUE".
 * Pure: APR only, unit tested in tests/unit/test_wafparse.c, fuzzed by
 * tests/fuzz/fuzz_wafparse.c. */
#ifndef FX_WAFPARSE_H
#define FX_WAFPARSE_H

#include <apr_pools.h>
#include <apr_tables.h>

enum { FX_WAF_NONE = 0, FX_WAF_DENIED = 1, FX_WAF_WARNING = 2 };

typedef struct {
    int kind;               /* FX_WAF_DENIED or FX_WAF_WARNING */
    int status;             /* "Access denied with code 403", 0 for Warning */
    int phase;              /* "(phase 2)", 0 if absent */
    const char *file;       /* [file "..."] the rule's configuration file */
    int line;               /* [line "..."] */
    const char *id;         /* [id "..."] */
    const char *msg;        /* [msg "..."] */
    const char *data;       /* [data "..."] (logdata, request bytes) */
    const char *severity;   /* [severity "CRITICAL"] */
    const char *unique_id;  /* [unique_id "..."] (mod_unique_id's) */
    const char *uri;        /* [uri "..."] */
    apr_array_header_t *tags;  /* every [tag "..."], const char * */
    const char *match;      /* ModSecurity's description of the match,
                             * between "(phase N). "/"Warning. " and the
                             * metadata */
    int cut;                /* ModSecurity cut its message (it formats the
                             * rule part into 1 KB): later tags are lost */
} fx_waf_info;

/* Parse msg, the text httpd passed to the error_log hook (escaped by httpd
 * as it writes it: backslashes doubled, other bytes as \xHH).  Returns
 * FX_WAF_DENIED or FX_WAF_WARNING, filling out; FX_WAF_NONE otherwise.
 * The metadata is read from the end of the line, where ModSecurity writes
 * it escaped: tag-like text that a client put into a variable name (which
 * ModSecurity writes unescaped into the match description) is never taken
 * for metadata.  Values are unescaped; absent tags stay NULL/0. */
int fx_waf_parse(apr_pool_t *p, const char *msg, fx_waf_info *out);

/* The value of tag name (e.g. "id") in a parsed message, or NULL. */
const char *fx_waf_tag(apr_pool_t *p, const char *msg, const char *name);

/* CRS writes logdata as "Matched Data: X found within VAR: VALUE".  The
 * candidate splits of data, in order (X, VAR and VALUE may themselves hold
 * " found within " when the client chose them): the k-th one (k >= 0) into
 * *matched, *var, *value; 0 when there is no k-th split. */
int fx_waf_split_data(apr_pool_t *p, const char *data, int k,
                      const char **matched, const char **var,
                      const char **value);

/* The variable ModSecurity names at the end of a match description ("...
 * at ARGS:id."), or NULL (libinjection's descriptions name none). */
const char *fx_waf_match_var(apr_pool_t *p, const char *match);

/* CRS's anomaly figures: "Inbound Anomaly Score Exceeded (Total Score: 8)"
 * in msg and "Operator GE matched 5 at TX:anomaly_score." in match.
 * -1 when absent. */
int fx_waf_total_score(const char *msg);
int fx_waf_threshold(const char *match);

/* CRS's default score of a severity (tx.critical_anomaly_score & co.):
 * CRITICAL 5, ERROR 4, WARNING 3, NOTICE 2; 0 for others. */
int fx_waf_severity_score(const char *severity);

/* 1 when id is one of CRS's blocking-evaluation or correlation rules
 * (949xxx, 959xxx, 980xxx): the rules that add up scores, never the cause
 * to exclude. */
int fx_waf_is_evaluation_rule(const char *id);

/* Which of n matched rules a false-positive exclusion must cover: the
 * rules grouped by vars[i] (NULL: a group of its own), groups chosen
 * largest summed scores[i] first (the first seen on a tie) until the score
 * left is below threshold; every group when !accounted (the logged scores
 * do not add up to total) or threshold < 0.  chosen[i] set to 1 or 0.
 * Returns the score left (total minus the chosen scores). */
int fx_waf_choose(apr_pool_t *p, int n, const char *const *vars,
                  const int *scores, int total, int threshold, int accounted,
                  int *chosen);

/* 1 when s can be written inside a ModSecurity action list or a quoted
 * operator argument without escaping: [A-Za-z0-9] and "_-.:/~%+". */
int fx_waf_config_safe(const char *s);

#endif
