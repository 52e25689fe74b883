/* fx_rwmatch.h — re-evaluates a mod_rewrite rule set for one request to find
 * the rule that answered 403, the RewriteCond lines it tested and the values
 * they saw.  mod_rewrite keeps no file:line and tells nobody which rule
 * fired, so the explanation replays its algorithm (apply_rewrite_list /
 * apply_rewrite_rule / apply_rewrite_cond in mod_rewrite.c) over the lines
 * recorded by the shadow directives.
 *
 * Pure: APR only.  Regular expressions, %{VARIABLE} values and file tests
 * come in through fx_rw_ops, so the module plugs in ap_regexec and the
 * request while the unit tests plug in POSIX regex and fixed values.
 * The replay carries what each rule changes: the file name, path info
 * ([DPI]), the query string ([QSA], [QSD], [QSL], a trailing '?') and the
 * environment ([E=], read back by %{ENV:...}); the callbacks give the values
 * the request had when mod_rewrite's hook began.
 * Anything the replay cannot reproduce exactly (RewriteMap, expr=, -U/-F,
 * unknown variables) ends the replay with FX_RW_UNKNOWN and a reason: a rule
 * is only ever named when the replay itself produced the 403. */
#ifndef FX_RWMATCH_H
#define FX_RWMATCH_H

#include <apr_pools.h>
#include <apr_tables.h>

#define FX_RW_NCAP 10

/* Capture groups of one regex match: offsets into source, -1 when unset. */
typedef struct {
    const char *source;
    int so[FX_RW_NCAP];
    int eo[FX_RW_NCAP];
} fx_rw_caps;

typedef struct {
    /* Match subject against the (extended) regex pattern; fill caps (may
     * be NULL).  1 = match, 0 = no match, -1 = pattern does not compile. */
    int (*match)(void *baton, const char *pattern, int nocase,
                 const char *subject, fx_rw_caps *caps);
    /* Value of %{name} (name as written: "HTTP_REFERER", "HTTP:X-Foo",
     * "ENV:x"), given the rule set's current filename and query string.
     * NULL when the value cannot be reproduced. */
    const char *(*var)(void *baton, const char *name, const char *filename,
                       const char *args);
    /* RewriteCond file tests: op is 'f', 's', 'd', 'x' or 'l'.
     * 1 true, 0 false, -1 cannot tell. */
    int (*filetest)(void *baton, char op, const char *path);
    void *baton;
    /* 1: the running httpd predates the %3f check (AH10508, 2.4.60), every
     * rule behaves as if it had [UnsafeAllow3F]. */
    int no_3f_check;
    /* "scheme://host[:port]" of the request, which [R] and [P] prefix to a
     * local substitution (NULL: unknown, such a rule stops the replay). */
    const char *self_url;
    /* ${name:key}: the value, NULL when the map has none for key; *why set
     * (and NULL returned) when the answer cannot be known (prg:, rnd:,
     * dbd:, an unknown map).  NULL callback: no map is known. */
    const char *(*map)(void *baton, const char *name, const char *key,
                       const char **why);
} fx_rw_ops;

/* One recorded directive, in configuration order.  RewriteCond lines attach
 * to the next RewriteRule of the same group (a group is one section or
 * .htaccess file, as mod_rewrite keeps conditions per configuration). */
typedef struct {
    const char *name;           /* "RewriteRule" or "RewriteCond" */
    const char *args;           /* arguments as written */
    int group;
} fx_rw_line;

/* One RewriteCond the firing rule evaluated. */
typedef struct {
    int line;                   /* index into the lines */
    const char *test_string;    /* TestString as written */
    const char *tested;         /* its expansion: the value tested */
    const char *pattern;        /* CondPattern as written */
    int result;                 /* 1 the condition held, 0 it did not */
} fx_rw_cond_eval;

enum {
    FX_RW_FOUND,                /* a rule produced the status */
    FX_RW_NONE,                 /* the replay ends without that status */
    FX_RW_UNKNOWN               /* the replay met something it cannot do */
};

typedef struct {
    int outcome;
    int rule;                   /* FX_RW_FOUND: index of the RewriteRule */
    int status;                 /* its status (403, 410, ...) */
    int unsafe_qmark;           /* 403 from the %3f check (AH10508) */
    const char *subject;        /* what the rule's pattern was matched to */
    apr_array_header_t *conds;  /* fx_rw_cond_eval, in evaluation order */
    const char *why;            /* FX_RW_UNKNOWN: what stopped the replay */
    /* What the list left behind (also when no rule set a status): */
    int changed;                /* a substitution was applied */
    int end_rule;               /* line of the rule that ended the list with
                                 * [L], [END], [P] or [PT]; -1 none */
    int proxy;                  /* that rule was a [P] */
    const char *final_filename;
    const char *final_args;     /* the query string after the rules */
    int args_rule;              /* line of the rule that last changed it */
    apr_table_t *env;           /* variables its [E=] flags set */
} fx_rw_result;

/* Split a directive's arguments as mod_rewrite does (quotes, "\ "):
 * up to 3 words, returns how many (0 on a malformed line). */
int fx_rw_split(apr_pool_t *p, const char *args, char *words[3]);

/* Replay the rules.
 *   perdir     per-directory prefix with trailing '/', NULL for server
 *              and virtual-host context
 *   filename   r->filename when the rules start (server context: r->uri)
 *   path_info  per-dir only: r->path_info, re-added as mod_rewrite does
 *   args       the query string (NULL if none)
 *   is_subreq  the request is a sub-request ([NS] rules are skipped) */
void fx_rw_evaluate(apr_pool_t *p, const fx_rw_line *lines, int nlines,
                    const char *perdir, const char *filename,
                    const char *path_info, const char *args, int is_subreq,
                    const fx_rw_ops *ops, fx_rw_result *out);

/* The deliberate protection a rule that answered 403 is, from which of its
 * conditions decided (conds, as fx_rw_evaluate left them), else from its
 * pattern (as written, with a leading '!') and what it matched.  A
 * condition decided when it held, is not negated and its pattern is
 * specific (not .* or ^(.*)$); conditions on the file, URL path, host or
 * an ENV: variable only scope the rule; a negated one that held only says
 * the request is not exempted.  Kinds:
 *   "query-filter"        a %{QUERY_STRING} condition decided (an exploit
 *                         filter: no exemption of the path is narrow)
 *   "bad-bot"             a User-Agent condition decided, or a negated
 *                         one (an allow-list of agents) held
 *   "referrer-blacklist"  a Referer condition naming sites decided
 *   "hotlink"             nothing above decided and a negated Referer
 *                         pattern held (the allow-list of referring sites;
 *                         !^$, the empty-Referer exemption, is not one)
 *   "vcs"                 a .git/.svn/.hg/.bzr/CVS segment the pattern names
 *   "dotfiles"            a segment starting with '.' and a pattern
 *                         anchoring "\." to a segment start
 *   "backup"              ~, .bak, .old, .orig, .save, .swp, .sql, .dump,
 *                         ... named by the pattern
 * NULL: none.  *decided (may be NULL) gets the index into conds of the
 * condition that decided or made the allow-list, -1 when none did. */
const char *fx_rw_protection_kind(apr_pool_t *p, const char *pattern,
                                  const char *subject,
                                  const apr_array_header_t *conds,
                                  int *decided);

#endif
