/* test_rwmatch.c — unit tests of the mod_rewrite replay (fx_rwmatch.c):
 * POSIX extended regex stands in for httpd's PCRE wrapper, a fixed table
 * for the request's variables. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <regex.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_rwmatch.h"
#include "unit.h"

static int t_match(void *baton, const char *pattern, int nocase,
                   const char *subject, fx_rw_caps *caps)
{
    regex_t re;
    regmatch_t m[FX_RW_NCAP];
    int i, rc;
    (void)baton;
    if (regcomp(&re, pattern, REG_EXTENDED | (nocase ? REG_ICASE : 0))) {
        return -1;
    }
    rc = regexec(&re, subject, FX_RW_NCAP, m, 0);
    regfree(&re);
    if (rc) {
        return 0;
    }
    for (i = 0; i < FX_RW_NCAP && caps; i++) {
        caps->so[i] = (int)m[i].rm_so;
        caps->eo[i] = (int)m[i].rm_eo;
    }
    return 1;
}

static const char *const *t_vars;

static const char *t_var(void *baton, const char *name, const char *filename,
                         const char *args)
{
    int i;
    (void)baton;
    if (!strcmp(name, "REQUEST_FILENAME")) {
        return filename;
    }
    if (!strcmp(name, "QUERY_STRING")) {
        return args ? args : "";
    }
    for (i = 0; t_vars[i]; i += 2) {
        if (!strcmp(t_vars[i], name)) {
            return t_vars[i + 1];
        }
    }
    return NULL;
}

static int t_filetest(void *baton, char op, const char *path)
{
    (void)baton;
    if (op == 'f') {
        return strcmp(path, "/srv/exists") == 0;
    }
    return -1;
}

static const fx_rw_ops ops = { t_match, t_var, t_filetest, NULL };

static void test_split(apr_pool_t *p)
{
    char *w[3];
    CHECK(fx_rw_split(p, "^/a(.*) /b$1 [F,NC]", w) == 3);
    CHECK_STR(w[0], "^/a(.*)");
    CHECK_STR(w[1], "/b$1");
    CHECK_STR(w[2], "[F,NC]");
    CHECK(fx_rw_split(p, "\"a b\" 'c d'", w) == 2);
    CHECK_STR(w[0], "a b");
    CHECK_STR(w[1], "c d");
    CHECK(fx_rw_split(p, "a\\ b -", w) == 2);
    CHECK_STR(w[0], "a\\ b");
}

/* The classic hotlink rule: only the rule whose conditions hold fires. */
static void test_hotlink(apr_pool_t *p)
{
    static const char *const vars[] = {
        "HTTP_REFERER", "http://evil.example/page", NULL
    };
    fx_rw_line lines[] = {
        { "RewriteRule", "^/other - [F]", 0 },
        { "RewriteCond", "%{HTTP_REFERER} !^$", 0 },
        { "RewriteCond", "%{HTTP_REFERER} !^https?://(www\\.)?good\\.example/ [NC]", 0 },
        { "RewriteRule", "\\.(jpe?g|png)$ - [F,NC]", 0 },
        { "RewriteRule", ".* - [F]", 0 },
    };
    fx_rw_result res;
    const fx_rw_cond_eval *ev;

    t_vars = vars;
    fx_rw_evaluate(p, lines, 5, NULL, "/img/cat.PNG", NULL, NULL, 0, &ops,
                   &res);
    CHECK(res.outcome == FX_RW_FOUND);
    CHECK(res.rule == 3);
    CHECK(res.status == 403);
    CHECK(!res.unsafe_qmark);
    CHECK_STR(res.subject, "/img/cat.PNG");
    CHECK(res.conds && res.conds->nelts == 2);
    ev = &APR_ARRAY_IDX(res.conds, 1, fx_rw_cond_eval);
    CHECK(ev->line == 2);
    CHECK_STR(ev->tested, "http://evil.example/page");
    CHECK(ev->result == 1);

    /* A good referer: the image rule's conditions fail, the catch-all
     * rule after it fires instead, with no conditions. */
    {
        static const char *const good[] = {
            "HTTP_REFERER", "https://www.GOOD.example/x", NULL
        };
        t_vars = good;
        fx_rw_evaluate(p, lines, 5, NULL, "/img/cat.png", NULL, NULL, 0, &ops,
                       &res);
        CHECK(res.outcome == FX_RW_FOUND);
        CHECK(res.rule == 4);
        CHECK(res.conds && res.conds->nelts == 0);
    }
}

static void test_perdir_and_flags(apr_pool_t *p)
{
    static const char *const vars[] = { "HTTP_HOST", "h.example", NULL };
    fx_rw_line lines[] = {
        /* per-dir prefix stripped: "blocked" not "/srv/rw/blocked" */
        { "RewriteRule", "^old/(.*)$ new/$1", 0 },
        { "RewriteRule", "^/srv/rw/new/ - [F]", 0 },   /* never: prefix gone */
        { "RewriteRule", "^new/secret$ - [R=403]", 0 },
    };
    fx_rw_result res;

    t_vars = vars;
    fx_rw_evaluate(p, lines, 3, "/srv/rw/", "/srv/rw/old/secret", NULL, NULL,
                   0, &ops, &res);
    CHECK(res.outcome == FX_RW_FOUND);
    CHECK(res.rule == 2);
    CHECK(res.status == 403);
    CHECK_STR(res.subject, "new/secret");

    /* [L] on the rewrite ends the list: no 403 reproduced. */
    {
        fx_rw_line l2[] = {
            { "RewriteRule", "^old/(.*)$ new/$1 [L]", 0 },
            { "RewriteRule", "^new/secret$ - [F]", 0 },
        };
        fx_rw_evaluate(p, l2, 2, "/srv/rw/", "/srv/rw/old/secret", NULL, NULL,
                       0, &ops, &res);
        CHECK(res.outcome == FX_RW_NONE);
    }
    /* [G] is 410, and a negated rule pattern. */
    {
        fx_rw_line l3[] = {
            { "RewriteRule", "!^keep - [G]", 0 },
        };
        fx_rw_evaluate(p, l3, 1, "/srv/rw/", "/srv/rw/x", NULL, NULL, 0, &ops,
                       &res);
        CHECK(res.outcome == FX_RW_FOUND);
        CHECK(res.status == 410);
    }
    /* [C]: a failed rule skips the rules chained to it. */
    {
        fx_rw_line l4[] = {
            { "RewriteRule", "^nomatch - [C]", 0 },
            { "RewriteRule", ".* - [F]", 0 },
            { "RewriteRule", ".* - [R=403,NS]", 0 },
        };
        fx_rw_evaluate(p, l4, 3, NULL, "/x", NULL, NULL, 0, &ops, &res);
        CHECK(res.outcome == FX_RW_FOUND);
        CHECK(res.rule == 2);
        /* sub-requests skip [NS] */
        fx_rw_evaluate(p, l4, 3, NULL, "/x", NULL, NULL, 1, &ops, &res);
        CHECK(res.outcome == FX_RW_NONE);
    }
}

static void test_conditions(apr_pool_t *p)
{
    static const char *const vars[] = {
        "REMOTE_ADDR", "10.1.2.3", "HTTP:X-Token", "abc", NULL
    };
    fx_rw_line lines[] = {
        /* [OR]: first false, second true, third not evaluated */
        { "RewriteCond", "%{REMOTE_ADDR} ^192\\. [OR]", 0 },
        { "RewriteCond", "%{REMOTE_ADDR} ^10\\.(1)\\. [OR]", 0 },
        { "RewriteCond", "%{HTTP:X-Token} =zzz", 0 },
        { "RewriteCond", "%1-%{QUERY_STRING} =1-a=b", 0 },
        { "RewriteCond", "/srv/exists -f", 0 },
        { "RewriteCond", "%{HTTP:X-Token} !=abc [NC]", 1 },  /* other group */
        { "RewriteRule", "^/(api)/ - [F]", 0 },
    };
    fx_rw_result res;
    const fx_rw_cond_eval *ev;

    t_vars = vars;
    fx_rw_evaluate(p, lines, 7, NULL, "/api/v1", NULL, "a=b", 0, &ops, &res);
    /* Conditions attach only to a rule of their own group (section): the
     * rule of group 0 after a group-1 condition has none. */
    CHECK(res.outcome == FX_RW_FOUND);
    CHECK(res.conds && res.conds->nelts == 0);

    {
        fx_rw_line l2[] = {
            { "RewriteCond", "%{REMOTE_ADDR} ^192\\. [OR]", 0 },
            { "RewriteCond", "%{REMOTE_ADDR} ^10\\.(1)\\. [OR]", 0 },
            { "RewriteCond", "%{HTTP:X-Token} =zzz", 0 },
            { "RewriteCond", "%1-%{QUERY_STRING} =1-a=b", 0 },
            { "RewriteCond", "/srv/exists -f", 0 },
            { "RewriteCond", "%{HTTP:X-Token} -ne5", 0 },
            { "RewriteRule", "^/(api)/ - [F]", 0 },
        };
        fx_rw_evaluate(p, l2, 7, NULL, "/api/v1", NULL, "a=b", 0, &ops, &res);
        CHECK(res.outcome == FX_RW_FOUND);
        CHECK(res.rule == 6);
        CHECK(res.conds && res.conds->nelts == 5);
        if (!res.conds || res.conds->nelts != 5) return;
        ev = &APR_ARRAY_IDX(res.conds, 0, fx_rw_cond_eval);
        CHECK(ev->result == 0);
        CHECK_STR(ev->tested, "10.1.2.3");
        ev = &APR_ARRAY_IDX(res.conds, 2, fx_rw_cond_eval);
        CHECK(ev->line == 3);
        CHECK_STR(ev->tested, "1-a=b");
        ev = &APR_ARRAY_IDX(res.conds, 3, fx_rw_cond_eval);
        CHECK(ev->line == 4);
        CHECK(ev->result == 1);
    }
    /* An unknown variable or a RewriteMap stops the replay honestly. */
    {
        fx_rw_line l3[] = {
            { "RewriteCond", "%{NO_SUCH_VAR} =x", 0 },
            { "RewriteRule", ".* - [F]", 0 },
        };
        fx_rw_line l4[] = {
            { "RewriteRule", "^/(.*) ${map:$1}", 0 },
            { "RewriteRule", ".* - [F]", 0 },
        };
        fx_rw_line l5[] = {
            { "RewriteCond", "expr \"-R '10.0.0.0/8'\"", 0 },
            { "RewriteRule", ".* - [F]", 0 },
        };
        fx_rw_evaluate(p, l3, 2, NULL, "/x", NULL, NULL, 0, &ops, &res);
        CHECK(res.outcome == FX_RW_UNKNOWN);
        CHECK(res.why && strstr(res.why, "NO_SUCH_VAR"));
        fx_rw_evaluate(p, l4, 2, NULL, "/x", NULL, NULL, 0, &ops, &res);
        CHECK(res.outcome == FX_RW_UNKNOWN);
        CHECK(res.why && strstr(res.why, "RewriteMap"));
        fx_rw_evaluate(p, l5, 2, NULL, "/x", NULL, NULL, 0, &ops, &res);
        CHECK(res.outcome == FX_RW_UNKNOWN);
    }
}

/* AH10508: a '?' produced by a back-reference (from a decoded %3f). */
static void test_unsafe_qmark(apr_pool_t *p)
{
    fx_rw_line lines[] = {
        { "RewriteRule", "^/q/(.*)$ /target/$1", 0 },
    };
    fx_rw_line safe[] = {
        { "RewriteRule", "^/q/(.*)$ /target/$1 [UnsafeAllow3F]", 0 },
    };
    fx_rw_line literal[] = {
        { "RewriteRule", "^/q/(.*)$ /target?x=$1", 0 },
    };
    fx_rw_result res;

    fx_rw_evaluate(p, lines, 1, NULL, "/q/a?b", NULL, NULL, 0, &ops, &res);
    CHECK(res.outcome == FX_RW_FOUND);
    CHECK(res.unsafe_qmark == 1);
    CHECK(res.status == 403);
    fx_rw_evaluate(p, safe, 1, NULL, "/q/a?b", NULL, NULL, 0, &ops, &res);
    CHECK(res.outcome == FX_RW_NONE);
    fx_rw_evaluate(p, literal, 1, NULL, "/q/a?b", NULL, NULL, 0, &ops, &res);
    CHECK(res.outcome == FX_RW_NONE);
}


/* issue 12, case 1: the flag an [E=] sets is seen by later rules only. */
static void test_env_carried(apr_pool_t *p)
{
    static const char *const vars[] = { "ENV:flag", "", NULL };
    fx_rw_line lines[] = {
        { "RewriteCond", "%{ENV:flag} =1", 0 },
        { "RewriteRule", "^/x\\.txt$ - [F]", 0 },
        { "RewriteRule", "^/x\\.txt$ - [E=flag:1]", 0 },
        { "RewriteCond", "%{ENV:flag} =1", 0 },
        { "RewriteRule", "^/x(\\.)txt$ - [F]", 0 },
    };
    fx_rw_result res;
    t_vars = vars;
    fx_rw_evaluate(p, lines, 5, NULL, "/x.txt", NULL, NULL, 0, &ops, &res);
    CHECK(res.outcome == FX_RW_FOUND);
    CHECK(res.rule == 4);
    CHECK(res.conds && res.conds->nelts == 1);
    CHECK_STR(apr_table_get(res.env, "flag"), "1");
    /* [E=!flag] unsets it again: the last rule's condition fails */
    {
        fx_rw_line l2[] = {
            { "RewriteRule", "^/x - [E=flag:1]", 0 },
            { "RewriteRule", "^/x - [E=!flag]", 0 },
            { "RewriteCond", "%{ENV:flag} =1", 0 },
            { "RewriteRule", "^/x - [F]", 0 },
        };
        fx_rw_evaluate(p, l2, 4, NULL, "/x.txt", NULL, NULL, 0, &ops, &res);
        CHECK(res.outcome == FX_RW_NONE);
    }
}

/* issue 12, case 2: a substitution's query string replaces the request's. */
static void test_query_rewritten(apr_pool_t *p)
{
    static const char *const vars[] = { NULL };
    fx_rw_line lines[] = {
        { "RewriteCond", "%{QUERY_STRING} ^x=1$", 0 },
        { "RewriteRule", "^/a$ - [F]", 0 },
        { "RewriteRule", "^/a$ /a?x=1", 0 },
        { "RewriteRule", "^/(a)$ - [F]", 0 },
    };
    fx_rw_result res;
    t_vars = vars;
    fx_rw_evaluate(p, lines, 4, NULL, "/a", NULL, "y=2", 0, &ops, &res);
    CHECK(res.outcome == FX_RW_FOUND);
    CHECK(res.rule == 3);
    CHECK_STR(res.final_args, "x=1");
    CHECK(res.args_rule == 2);
    /* [QSA] appends the old query, [QSD] drops it, a trailing '?' too */
    {
        fx_rw_line l2[] = { { "RewriteRule", "^/a$ /b?x=1 [QSA]", 0 } };
        fx_rw_evaluate(p, l2, 1, NULL, "/a", NULL, "y=2", 0, &ops, &res);
        CHECK_STR(res.final_args, "x=1&y=2");
        CHECK_STR(res.final_filename, "/b");
        CHECK(res.changed);
    }
    {
        fx_rw_line l3[] = { { "RewriteRule", "^/a$ /b [QSD]", 0 } };
        fx_rw_evaluate(p, l3, 1, NULL, "/a", NULL, "y=2", 0, &ops, &res);
        CHECK(res.final_args == NULL);
    }
    {
        fx_rw_line l4[] = { { "RewriteRule", "^/a$ /b?", 0 } };
        fx_rw_evaluate(p, l4, 1, NULL, "/a", NULL, "y=2", 0, &ops, &res);
        CHECK(res.final_args == NULL);
        CHECK_STR(res.final_filename, "/b");
    }
    {
        /* as splitout_queryargs: "q=1&" + "&" + (no query), one '&' cut */
        fx_rw_line l5[] = { { "RewriteRule", "^/a$ /b?q=1& [QSA]", 0 } };
        fx_rw_evaluate(p, l5, 1, NULL, "/a", NULL, NULL, 0, &ops, &res);
        CHECK_STR(res.final_args, "q=1&");
    }
}

/* [DPI] drops the path info a per-dir rule re-adds; [R] qualifies the
 * name, and the rules after it match the URL. */
static void test_dpi_and_redirect(apr_pool_t *p)
{
    static const char *const vars[] = { NULL };
    fx_rw_ops o = ops;
    fx_rw_result res;
    fx_rw_line lines[] = {
        { "RewriteRule", "^a\\.php/extra$ a.php [DPI]", 0 },
        { "RewriteRule", "^a\\.php$ - [F]", 0 },
    };
    t_vars = vars;
    fx_rw_evaluate(p, lines, 2, "/srv/d/", "/srv/d/a.php", "/extra", NULL, 0,
                   &ops, &res);
    CHECK(res.outcome == FX_RW_FOUND);
    CHECK(res.rule == 1);
    /* without [DPI] the path info comes back: no 403 */
    lines[0].args = "^a\\.php/extra$ a.php";
    fx_rw_evaluate(p, lines, 2, "/srv/d/", "/srv/d/a.php", "/extra", NULL, 0,
                   &ops, &res);
    CHECK(res.outcome == FX_RW_NONE);
    {
        fx_rw_line l2[] = {
            { "RewriteRule", "^/old$ /new [R]", 0 },
            { "RewriteRule", "^http://h\\.example/new$ - [F]", 0 },
        };
        o.self_url = "http://h.example";
        fx_rw_evaluate(p, l2, 2, NULL, "/old", NULL, NULL, 0, &o, &res);
        CHECK(res.outcome == FX_RW_FOUND);
        CHECK(res.rule == 1);
        /* unknown own URL: the replay says so */
        fx_rw_evaluate(p, l2, 2, NULL, "/old", NULL, NULL, 0, &ops, &res);
        CHECK(res.outcome == FX_RW_UNKNOWN);
    }
}

/* conds: "TestString", "pattern", result, ..., NULL (as evaluated) */
static apr_array_header_t *t_conds(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(fx_rw_cond_eval));
    const char *ts;
    va_list ap;
    va_start(ap, p);
    while ((ts = va_arg(ap, const char *)) != NULL) {
        fx_rw_cond_eval *ev = apr_array_push(a);
        ev->line = a->nelts - 1;
        ev->test_string = ts;
        ev->pattern = va_arg(ap, const char *);
        ev->result = va_arg(ap, int);
        ev->tested = "";
    }
    va_end(ap);
    return a;
}

static void test_protection_kinds(apr_pool_t *p)
{
    int d;
    apr_array_header_t *none = t_conds(p, NULL);
    apr_array_header_t *hot = t_conds(p,
        "%{HTTP_REFERER}", "!^$", 1,
        "%{HTTP_REFERER}", "!^https?://(www\\.)?good\\.example/", 1, NULL);

    CHECK_STR(fx_rw_protection_kind(p, "\\.(jpe?g|png)$", "/i/c.png", hot,
                                    &d), "hotlink");
    CHECK(d == 1);              /* the allow-list, not !^$ */
    /* file-type and host conditions only scope a hotlink rule */
    CHECK_STR(fx_rw_protection_kind(p, ".*", "/i/c.png", t_conds(p,
        "%{REQUEST_FILENAME}", "\\.(gif|png)$", 1,
        "%{REQUEST_FILENAME}", "-f", 1,
        "%{HTTP_HOST}@@%{HTTP_REFERER}", "!^([^@]*)@@https?://\\1/", 1,
        NULL), &d), "hotlink");
    CHECK(d == 2);
    /* a positive "some URL" test is the not-empty half of an allow-list */
    CHECK_STR(fx_rw_protection_kind(p, ".*", "/i/c.png", t_conds(p,
        "%{HTTP_REFERER}", "^https?://", 1,
        "%{HTTP_REFERER}", "!good\\.example", 1, NULL), &d), "hotlink");
    /* iThemes Security: a query filter ending in a Google Maps exemption */
    CHECK_STR(fx_rw_protection_kind(p, "^(.*)$", "x.txt", t_conds(p,
        "%{QUERY_STRING}", "etc/passwd", 1,
        "%{QUERY_STRING}", "!^loggedout=true", 1,
        "%{HTTP_COOKIE}", "!^.*wordpress_logged_in_.*$", 1,
        "%{HTTP_REFERER}", "!^http://maps\\.googleapis\\.com(.*)$", 1,
        NULL), &d), "query-filter");
    CHECK(d == 0);
    /* [OR] chain: the alternative that held decided */
    CHECK_STR(fx_rw_protection_kind(p, ".*", "index.php", t_conds(p,
        "%{QUERY_STRING}", "base64_encode", 0,
        "%{QUERY_STRING}", "GLOBALS(=|\\[)", 1, NULL), &d), "query-filter");
    CHECK(d == 1);
    /* 6G: a Referer pattern naming sites is a blacklist */
    CHECK_STR(fx_rw_protection_kind(p, ".*", "", t_conds(p,
        "%{HTTP_REFERER}", "([a-z0-9]{2000,})", 0,
        "%{HTTP_REFERER}", "(semalt.com|todaperfeita)", 1, NULL), &d),
        "referrer-blacklist");
    CHECK(d == 1);
    /* ... also with an allow-list after it: the named site decided */
    CHECK_STR(fx_rw_protection_kind(p, ".*", "", t_conds(p,
        "%{HTTP_REFERER}", "spam\\.example", 1,
        "%{HTTP_REFERER}", "!^https?://good\\.example", 1, NULL), &d),
        "referrer-blacklist");
    /* a method block with a Referer exemption is no hotlink protection */
    CHECK(fx_rw_protection_kind(p, "^(.*)$", "x", t_conds(p,
        "%{REQUEST_METHOD}", "^(TRACE|TRACK)", 1,
        "%{HTTP_REFERER}", "!^http://maps\\.example", 1, NULL), &d) == NULL);
    CHECK(d == 0);
    /* trivial patterns decide nothing */
    CHECK(fx_rw_protection_kind(p, "^x$", "x", t_conds(p,
        "%{QUERY_STRING}", "^(.*)$", 1, NULL), &d) == NULL);
    CHECK(d == -1);
    CHECK_STR(fx_rw_protection_kind(p, ".*", "/x", t_conds(p,
        "%{HTTP_USER_AGENT}", "zgrab", 1, NULL), &d), "bad-bot");
    CHECK_STR(fx_rw_protection_kind(p, ".*", "/x", t_conds(p,
        "%{HTTP_USER_AGENT}", "!^Mozilla", 1, NULL), &d), "bad-bot");
    CHECK_STR(fx_rw_protection_kind(p, "^(.*/)?\\.git/", ".git/config", none,
                                    &d), "vcs");
    CHECK(d == -1);
    CHECK_STR(fx_rw_protection_kind(p, "(^|/)\\.", "a/.env", NULL, NULL),
              "dotfiles");
    CHECK_STR(fx_rw_protection_kind(p, "\\.(bak|old|sql)$", "db.sql", none,
                                    &d), "backup");
    CHECK_STR(fx_rw_protection_kind(p, "~$", "index.php~", none, &d),
              "backup");
    /* the pattern must name what it protects */
    CHECK(fx_rw_protection_kind(p, "^secret/", "secret/.env", none, &d)
          == NULL);
    CHECK(fx_rw_protection_kind(p, "\\.php$", "x.php", none, &d) == NULL);
    CHECK(fx_rw_protection_kind(p, "!^(\\.)", "x.bak", none, &d) == NULL);
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_split(p);
    test_hotlink(p);
    test_perdir_and_flags(p);
    test_conditions(p);
    test_unsafe_qmark(p);
    test_env_carried(p);
    test_query_rewritten(p);
    test_dpi_and_redirect(p);
    test_protection_kinds(p);
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
