/* fx_auditrule.h — the judgements of the configuration audit that need no
 * running server: is a .htaccess directive allowed by AllowOverride (or a
 * 500, or silently ignored under AllowOverride Nonfatal), which Options
 * words an AllowOverride Options=... list refuses, does Options refuse a
 * symlink, the AllowOverride class names a set of directives needs, and
 * one finding rendered as a JSON object (log-safe %HH or standard JSON).
 *
 * Pure: APR only; unit tested in tests/unit/test_audit.c. */
#ifndef FX_AUDITRULE_H
#define FX_AUDITRULE_H

#include <apr_pools.h>
#include <apr_tables.h>

/* httpd's override bits (http_config.h), the same values. */
#define FX_OR_LIMIT     1
#define FX_OR_OPTIONS   2
#define FX_OR_FILEINFO  4
#define FX_OR_AUTHCFG   8
#define FX_OR_INDEXES   16
#define FX_OR_ALL       31
#define FX_NONFATAL_OVERRIDE 512
#define FX_NONFATAL_UNKNOWN  1024

/* What httpd's invoke_cmd does with one .htaccess directive. */
enum {
    FX_HT_ALLOWED = 0,
    FX_HT_500,              /* "... not allowed here": 500 for every request */
    FX_HT_IGNORED           /* AllowOverride Nonfatal=Override: warning, skipped */
};
/* req_override: the command's; override: AllowOverride bits in effect
 * (with the NONFATAL_* bits); in_list: AllowOverrideList names it. */
int fx_audit_directive_verdict(int req_override, int override, int in_list);

/* The first word of an Options argument list that override_opts
 * (AllowOverride Options=...) refuses in an .htaccess file, or NULL.
 * Words httpd does not know are not judged here (httpd refuses them
 * everywhere). */
const char *fx_audit_options_refused(apr_pool_t *p, const char *args,
                                     unsigned override_opts);

/* Does resolve_symlink() refuse a link under these options?  owner_match:
 * the link and its target have the same owner. */
int fx_audit_symlink_refused(unsigned opts, int owner_match);

/* "AuthConfig FileInfo" for the override bits (NULL for 0). */
const char *fx_audit_override_names(apr_pool_t *p, int bits);

/* An AliasMatch / ScriptAliasMatch target with no back-reference: a plain
 * path the audit can check. */
int fx_audit_plain_target(const char *target);

/* One step of a finding's "fix" (common.md's shape). */
typedef struct {
    const char *op;             /* "run", "replace", "delete", "insert" */
    const char *file;
    int line;                   /* line, or after_line for insert */
    const char *old;
    const char *text;           /* "new" for replace, "text" for insert */
    const char *const *argv;    /* run: NULL-terminated */
} fx_audit_step;

typedef struct {
    const char *severity;       /* "high", "medium", "low", "info" */
    const char *kind;
    const char *vhost;
    const char *path;
    int path_line;              /* line in path (an .htaccess), 0: none */
    const char *directive;      /* the directive that decides, with args */
    const char *file;           /* its file and line (NULL: a default) */
    int line;
    const char *section;
    const char *detail;
    apr_array_header_t *fix;    /* fx_audit_step, or NULL */
    int order;                  /* discovery order (stable sort) */
} fx_audit_finding;

/* 0 high, 1 medium, 2 low, 3 info, 4 unknown. */
int fx_audit_severity_rank(const char *severity);
/* Sorts an array of fx_audit_finding * by severity, then discovery. */
void fx_audit_sort(apr_array_header_t *findings);

/* The quoting function of the document: fx_json_quote (log-safe) or
 * fx_json_std_quote (standard JSON). */
typedef char *fx_audit_quote_fn(apr_pool_t *p, const char *src,
                                apr_size_t max_out, int *truncated);
const char *fx_audit_finding_json(apr_pool_t *p, const fx_audit_finding *f,
                                  fx_audit_quote_fn *quote);

#endif
