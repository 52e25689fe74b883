/* fx_protect.c — the recognised deliberate protections (dotfiles, VCS
 * directories, backups and dumps, config and secret files, the default
 * deny on <Directory />, upload directories kept from executing code, WAF
 * rules), their narrow alternatives, and scope narrowing for fixes.  A
 * protection is named so that a hint says "this works as intended; if this
 * one URL should be served, ..." instead of proposing its removal.  Pure:
 * APR and libc only (see fx_protect.h); the table of patterns lives in
 * docs/filesystem.md. */
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <apr_strings.h>
#include "fx_protect.h"

/* ---------------------------------------------------------------------- */
/* names                                                                   */

static const char *const fx_vcs_dirs[] = {
    ".git", ".svn", ".hg", ".bzr", "CVS", "_darcs", ".fslckout", NULL
};

/* Whole names (case-insensitive) of configuration and credential files. */
static const char *const fx_secret_names[] = {
    "wp-config.php", "config.php", "settings.php", "settings.local.php",
    "local.xml", "env.php", "configuration.php", "localsettings.php",
    "config.inc.php", "parameters.yml", "database.yml", "secrets.yml",
    "credentials.json", "credentials", ".env", ".htpasswd", ".htdigest",
    ".npmrc", ".pgpass", ".my.cnf", ".netrc", "id_rsa", "id_dsa",
    "id_ecdsa", "id_ed25519", "shadow", NULL
};

/* Name endings (case-insensitive) of key and keystore files. */
static const char *const fx_secret_ends[] = {
    ".key", ".pem", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", NULL
};

/* Name endings of backups, dumps, archives and editor leftovers. */
static const char *const fx_backup_ends[] = {
    ".bak", ".backup", ".old", ".orig", ".save", ".swp", ".swo", ".rej",
    "~", ".sql", ".sql.gz", ".sql.bz2", ".sql.xz", ".dump", ".tar",
    ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", NULL
};

static int fx_ends_with(const char *s, apr_size_t len, const char *end)
{
    apr_size_t n = strlen(end);
    return len > n && strncasecmp(s + len - n, end, n) == 0;
}

static int fx_in_list(const char *s, apr_size_t len, const char *const *list)
{
    int i;
    for (i = 0; list[i]; i++) {
        if (strlen(list[i]) == len && strncasecmp(s, list[i], len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int fx_ends_in_list(const char *s, apr_size_t len,
                           const char *const *list)
{
    int i;
    for (i = 0; list[i]; i++) {
        if (fx_ends_with(s, len, list[i])) {
            return 1;
        }
    }
    return 0;
}

static int fx_secret_component(const char *s, apr_size_t len)
{
    /* .env.local, .env.production: the same secrets per environment */
    if (len > 5 && strncmp(s, ".env.", 5) == 0) {
        return 1;
    }
    return fx_in_list(s, len, fx_secret_names)
           || fx_ends_in_list(s, len, fx_secret_ends);
}

static int fx_backup_component(const char *s, apr_size_t len)
{
    /* Emacs auto-save files: #name# */
    if (len > 2 && s[0] == '#' && s[len - 1] == '#') {
        return 1;
    }
    return fx_ends_in_list(s, len, fx_backup_ends);
}

static int fx_dot_component(const char *s, apr_size_t len)
{
    if (len < 2 || s[0] != '.' || (len == 2 && s[1] == '.')) {
        return 0;
    }
    /* RFC 8615's /.well-known/ is public by design. */
    return !(len == 11 && strncmp(s, ".well-known", 11) == 0);
}

int fx_protect_secret_name(const char *path)
{
    const char *base;
    if (!path) {
        return 0;
    }
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return *base && fx_secret_component(base, strlen(base));
}

/* The next component of the path at *s (NULL at the end): its start,
 * *len its length; *s moves past it. */
static const char *fx_next_component(const char **s, apr_size_t *len)
{
    const char *c;
    while (**s == '/') {
        (*s)++;
    }
    c = *s;
    while (**s && **s != '/') {
        (*s)++;
    }
    *len = (apr_size_t)(*s - c);
    return *len ? c : NULL;
}

const char *fx_protect_classify_path(const char *path)
{
    const char *s = path, *found = NULL, *c;
    apr_size_t len;
    int dot = 0;

    if (!path) {
        return NULL;
    }
    while ((c = fx_next_component(&s, &len)) != NULL) {
        if (fx_in_list(c, len, fx_vcs_dirs)) {
            return FX_PROT_VCS;             /* anything inside it */
        }
        dot |= fx_dot_component(c, len);
        if (!*s || !s[1]) {                 /* the last component */
            if (fx_secret_component(c, len)) {
                found = FX_PROT_SECRET;
            }
            else if (fx_backup_component(c, len)) {
                found = FX_PROT_BACKUP;
            }
        }
    }
    return found ? found : dot ? FX_PROT_DOTFILES : NULL;
}

/* ---------------------------------------------------------------------- */
/* patterns: a section's argument or a rule's regex, read for the names   */
/* it targets (no regex engine: the words tell what a protection is for)   */

/* s with backslashes dropped (so `\.git` reads `.git`), quotes and a
 * leading `~` (the regex form of <Files ~ ...>) removed, lower case. */
static char *fx_pattern_norm(const char *pat, char *buf, apr_size_t cap)
{
    apr_size_t o = 0;
    const char *s = pat;
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    if (*s == '~') {
        s++;
    }
    for (; *s && o + 1 < cap; s++) {
        if (*s == '\\' || *s == '"' || *s == '\'') {
            continue;
        }
        buf[o++] = (char)tolower((unsigned char)*s);
    }
    while (o && (buf[o - 1] == ' ' || buf[o - 1] == '\t')) {
        o--;
    }
    /* a container's ap_directive_t args keep the closing '>' */
    if (o && buf[o - 1] == '>') {
        o--;
        while (o && (buf[o - 1] == ' ' || buf[o - 1] == '\t')) {
            o--;
        }
    }
    buf[o] = '\0';
    s = buf;
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return (char *)s;
}

static int fx_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Does the normalised pattern hold word w as a whole word (w may start with
 * a dot: then only its end is bounded)? */
static int fx_has_word(const char *norm, const char *w)
{
    apr_size_t n = strlen(w);
    const char *s = norm;
    while ((s = strstr(s, w)) != NULL) {
        int left = (w[0] == '.') || s == norm || !fx_word_char(s[-1]);
        int right = !fx_word_char(s[n]) || (w[n - 1] == '-');
        if (left && right) {
            return 1;
        }
        s++;
    }
    return 0;
}

static int fx_has_any(const char *norm, const char *const *words)
{
    int i;
    for (i = 0; words[i]; i++) {
        if (fx_has_word(norm, words[i])) {
            return 1;
        }
    }
    return 0;
}

/* A dot that starts a name: after ^, / or a group that ends with one, or
 * at the start of the pattern (<Files ".ht*">). */
static int fx_has_leading_dot(const char *norm)
{
    const char *s;
    if (norm[0] == '.' && fx_word_char(norm[1])) {
        return 1;
    }
    for (s = norm + 1; *s; s++) {
        if (*s == '.' && (s[-1] == '^' || s[-1] == '/' || s[-1] == ')')) {
            return 1;
        }
    }
    return 0;
}

static const char *const fx_vcs_words[] = {
    ".git", ".svn", ".hg", ".bzr", "cvs", "_darcs", NULL
};
static const char *const fx_secret_words[] = {
    "wp-config", ".env", "htpasswd", "htdigest", "config.php",
    "settings.php", "configuration.php", "localsettings.php", ".key",
    ".pem", ".p12", ".pfx", "id_rsa", "secret", "secrets", "credentials",
    ".npmrc", ".pgpass", NULL
};
static const char *const fx_backup_words[] = {
    "bak", "backup", "old", "orig", "save", "swp", "swo", "sw[op]", "sql",
    "dump", "tar", "tgz", NULL
};

/* Extensions listed in a group: `\.(env|key|pem)$` reads .(env|key|pem)$,
 * where a word follows a dot, `(` or `|` and ends the name or the item. */
static const char *const fx_secret_exts[] = {
    "env", "key", "pem", "p12", "pfx", "htpasswd", NULL
};

static int fx_has_ext_any(const char *norm, const char *const *exts)
{
    int i;
    for (i = 0; exts[i]; i++) {
        apr_size_t n = strlen(exts[i]);
        const char *s = norm;
        while ((s = strstr(s, exts[i])) != NULL) {
            if (s > norm && (s[-1] == '.' || s[-1] == '(' || s[-1] == '|')
                && !fx_word_char(s[n])) {
                return 1;
            }
            s++;
        }
    }
    return 0;
}

const char *fx_protect_classify_pattern(const char *pattern)
{
    char buf[1024];
    const char *norm;

    if (!pattern) {
        return NULL;
    }
    norm = fx_pattern_norm(pattern, buf, sizeof(buf));
    if (!*norm) {
        return NULL;
    }
    if (strcmp(norm, "/") == 0 || strcmp(norm, "^/") == 0
        || strcmp(norm, "^/$") == 0) {
        return FX_PROT_ROOT;
    }
    if (fx_has_any(norm, fx_vcs_words)) {
        return FX_PROT_VCS;
    }
    if (fx_has_any(norm, fx_secret_words)
        || fx_has_ext_any(norm, fx_secret_exts)) {
        return FX_PROT_SECRET;
    }
    if (fx_has_any(norm, fx_backup_words) || strchr(norm, '~')) {
        return FX_PROT_BACKUP;
    }
    if (fx_has_leading_dot(norm)) {
        return FX_PROT_DOTFILES;
    }
    return NULL;
}

const char *fx_protect_alternative(const char *pattern)
{
    static const struct { const char *name, *text; } alt[] = {
        { FX_PROT_DOTFILES, "This rule keeps every dotfile (a name starting "
          "with '.') from being served, on purpose: it works as intended. If "
          "this one URL should be served, exempt only this name (a <Files> "
          "section for it that grants) or rename the file; keep the rule for "
          "every other dotfile." },
        { FX_PROT_VCS, "Version-control metadata (.git, .svn, .hg, .bzr, CVS) "
          "exposes the site's source and history: this deny works as "
          "intended. If a file from it should be published, copy it out of "
          "the repository directory and serve the copy; keep the directory "
          "denied." },
        { FX_PROT_BACKUP, "Backups, dumps and editor leftovers (*.bak, *.old, "
          "*.orig, *.swp, *~, *.sql, archives) often hold source code or "
          "data: this deny works as intended. If this file should be "
          "downloadable, give it a name the rule does not match, in a "
          "directory meant for downloads; keep the rule." },
        { FX_PROT_SECRET, "This file holds configuration or credentials "
          "(passwords, keys): denying it works as intended, and it should "
          "never be served over HTTP. If part of it must be public, publish "
          "that part as a separate file." },
        { FX_PROT_ROOT, "The deny on <Directory /> is the default that keeps "
          "the whole filesystem private: it works as intended. To serve a "
          "directory, add a <Directory> section for exactly that directory "
          "that grants; never change the one for /." },
        { FX_PROT_NOEXEC, "This upload directory is kept from executing code "
          "on purpose (an uploaded script must never run): it works as "
          "intended. If this file should be served as a static file, remove "
          "its extension from the handler mapping for this one file only; "
          "never enable ExecCGI or a script engine here." },
        { FX_PROT_WAF, "The WAF rule blocks what looks like an attack: it "
          "works as intended. If this request is legitimate, add an "
          "exclusion for this rule and this URL or parameter only; never "
          "disable the rule or the engine." },
    };
    apr_size_t i;
    if (!pattern) {
        return NULL;
    }
    for (i = 0; i < sizeof(alt) / sizeof(alt[0]); i++) {
        if (strcmp(alt[i].name, pattern) == 0) {
            return alt[i].text;
        }
    }
    return NULL;
}

/* Does a pattern target script files (`*.php`, `\.(php|phtml)$`,
 * `\.(?i:php)$`)?  A script extension after a dot, `(`, `|` or `:`. */
static int fx_pattern_scripts(const char *pattern)
{
    static const char *const exts[] = {
        "php", "phtml", "phar", "php3", "php4", "php5", "php7", "php[0-9]",
        "pl", "py", "jsp", "asp", "aspx", "cgi", "sh", NULL
    };
    char buf[1024];
    const char *norm = fx_pattern_norm(pattern, buf, sizeof(buf));
    int i;
    for (i = 0; exts[i]; i++) {
        apr_size_t n = strlen(exts[i]);
        const char *s = norm;
        while ((s = strstr(s, exts[i])) != NULL) {
            if (s > norm && strchr(".(|:", s[-1]) && !isalnum((unsigned char)s[n])) {
                return 1;
            }
            s++;
        }
    }
    return 0;
}

/* A section argument without regex or wildcard syntax names one path. */
static int fx_is_literal(const char *args)
{
    const char *s = args;
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return *s != '~' && !strpbrk(s, "^$*?[](){}|+\\");
}

const char *fx_protect_classify(const char *path, const char *section_args,
                                const char **alternative)
{
    const char *kind;

    if (section_args && fx_is_literal(section_args)) {
        /* one path or name: its components say what it is (a directory
         * called "old" is no backup); "/" is the filesystem root */
        char buf[1024];
        const char *lit = fx_pattern_norm(section_args, buf, sizeof(buf));
        kind = strcmp(lit, "/") == 0 ? FX_PROT_ROOT
                                     : fx_protect_classify_path(lit);
    }
    else if (section_args) {
        kind = fx_protect_classify_pattern(section_args);
        /* <Files *.php> / <FilesMatch "\.(?i:php)$"> denying scripts in
         * an upload directory: the plugins' other way of keeping uploaded
         * code from running */
        if (!kind && path && fx_protect_upload_dir(path)
            && fx_pattern_scripts(section_args)) {
            kind = FX_PROT_NOEXEC;
        }
    }
    else {
        kind = fx_protect_classify_path(path);
    }
    if (alternative) {
        *alternative = fx_protect_alternative(kind);
    }
    return kind;
}

/* ---------------------------------------------------------------------- */
/* directories kept from executing code                                    */

static const char *fx_skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* The next word of args (quotes dropped) into buf; returns the rest. */
static const char *fx_next_word(const char *s, char *buf, apr_size_t cap)
{
    apr_size_t o = 0;
    s = fx_skip_ws(s);
    while (*s && *s != ' ' && *s != '\t') {
        if (*s != '"' && *s != '\'' && o + 1 < cap) {
            buf[o++] = *s;
        }
        s++;
    }
    buf[o] = '\0';
    return s;
}

static int fx_off_word(const char *w)
{
    return strcasecmp(w, "off") == 0 || strcmp(w, "0") == 0
           || strcasecmp(w, "false") == 0;
}

const char *fx_protect_noexec_directive(const char *name, const char *args)
{
    char w[64];
    const char *s = args ? args : "";

    if (!name) {
        return NULL;
    }
    if (strcasecmp(name, "Options") == 0) {
        /* only an explicit -ExecCGI: an absolute line that merely leaves
         * it out is not a deliberate protection */
        while (*(s = fx_skip_ws(s))) {
            s = fx_next_word(s, w, sizeof(w));
            if (strcasecmp(w, "-ExecCGI") == 0) {
                return FX_PROT_NOEXEC;
            }
        }
        return NULL;
    }
    if (strcasecmp(name, "RemoveHandler") == 0
        || strcasecmp(name, "RemoveType") == 0) {
        return *fx_skip_ws(s) ? FX_PROT_NOEXEC : NULL;
    }
    if (strcasecmp(name, "SetHandler") == 0) {
        fx_next_word(s, w, sizeof(w));
        return strcasecmp(w, "none") == 0 ? FX_PROT_NOEXEC : NULL;
    }
    if (strcasecmp(name, "php_admin_flag") == 0
        || strcasecmp(name, "php_flag") == 0
        || strcasecmp(name, "php_admin_value") == 0
        || strcasecmp(name, "php_value") == 0) {
        s = fx_next_word(s, w, sizeof(w));
        if (strcasecmp(w, "engine") != 0) {
            return NULL;
        }
        fx_next_word(s, w, sizeof(w));
        return fx_off_word(w) ? FX_PROT_NOEXEC : NULL;
    }
    return NULL;
}

int fx_protect_trap_mapping(const char *args)
{
    static const char *const never_cgi[] = {
        "php", "php3", "php4", "php5", "php7", "phtml", "phar", "jsp",
        "asp", "aspx", NULL
    };
    static const char *const scripts[] = {
        "pl", "py", "sh", "cgi", "rb", "bash", NULL
    };
    char w[64];
    const char *s = args ? args : "";
    int i, n_scripts = 0, never = 0;

    s = fx_next_word(s, w, sizeof(w));
    if (strcasecmp(w, "cgi-script") != 0) {
        return 0;
    }
    while (*(s = fx_skip_ws(s))) {
        const char *ext;
        s = fx_next_word(s, w, sizeof(w));
        ext = w[0] == '.' ? w + 1 : w;
        for (i = 0; never_cgi[i]; i++) {
            if (strcasecmp(ext, never_cgi[i]) == 0) {
                never = 1;
            }
        }
        for (i = 0; scripts[i]; i++) {
            if (strcasecmp(ext, scripts[i]) == 0) {
                n_scripts++;
            }
        }
    }
    return never || n_scripts >= 3;
}

int fx_protect_upload_dir(const char *path)
{
    static const char *const names[] = {
        "uploads", "upload", "userfiles", "user-uploads", "attachments", NULL
    };
    const char *s = path, *prev2 = NULL, *prev = NULL, *c;
    apr_size_t prev2_len = 0, prev_len = 0, len;

    if (!path) {
        return 0;
    }
    while ((c = fx_next_component(&s, &len)) != NULL) {
        if (fx_in_list(c, len, names)) {
            return 1;
        }
        /* Drupal: sites/default/files, sites/example.com/files */
        if (len == 5 && strncmp(c, "files", 5) == 0 && prev2 && prev
            && prev2_len == 5 && strncmp(prev2, "sites", 5) == 0) {
            return 1;
        }
        prev2 = prev;
        prev2_len = prev_len;
        prev = c;
        prev_len = len;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* scope                                                                   */

/* path with repeated slashes collapsed and the trailing one dropped. */
static char *fx_clean_dir(apr_pool_t *p, const char *path)
{
    char *out = apr_palloc(p, strlen(path) + 1), *o = out;
    const char *s;
    for (s = path; *s; s++) {
        if (*s == '/' && o > out && o[-1] == '/') {
            continue;
        }
        *o++ = *s;
    }
    while (o - out > 1 && o[-1] == '/') {
        o--;
    }
    *o = '\0';
    return out;
}

int fx_protect_within(const char *path, const char *dir)
{
    apr_size_t n;
    if (!path || !dir) {
        return 0;
    }
    n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    if (n == 1 && dir[0] == '/') {
        return path[0] == '/';
    }
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const char *fx_protect_scope_dir(apr_pool_t *p, const char *filename,
                                 int is_dir, const char *section_path)
{
    char *dir;
    if (!filename || filename[0] != '/') {
        return NULL;
    }
    dir = fx_clean_dir(p, filename);
    if (!is_dir) {
        char *slash = strrchr(dir, '/');
        if (slash == dir) {
            slash[1] = '\0';
        }
        else if (slash) {
            *slash = '\0';
        }
    }
    /* A section deeper than the directory (a <Directory> for the file's
     * own directory can't be deeper; a literal section for a subdirectory
     * the request sits in is the narrower of the two). */
    if (section_path && section_path[0] == '/'
        && !strpbrk(section_path, "*?[")
        && fx_protect_within(section_path, dir)
        && fx_protect_within(filename, section_path)) {
        return fx_clean_dir(p, section_path);
    }
    return dir;
}

const char *fx_protect_conf_quote(apr_pool_t *p, const char *s)
{
    const char *c;
    char *out, *o;
    if (*s && !strpbrk(s, " \t\"'\\")) {
        return s;
    }
    out = o = apr_palloc(p, strlen(s) * 2 + 3);
    *o++ = '"';
    for (c = s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
        }
        *o++ = *c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

const char *fx_protect_dir_section(apr_pool_t *p, const char *dir,
                                   const char *body)
{
    const char *lines = "", *s = body ? body : "";
    while (*s) {
        const char *nl = strchr(s, '\n');
        apr_size_t len = nl ? (apr_size_t)(nl - s) : strlen(s);
        lines = apr_pstrcat(p, lines, "    ", apr_pstrmemdup(p, s, len), "\n",
                            NULL);
        s += len + (nl ? 1 : 0);
    }
    return apr_pstrcat(p, "<Directory ", fx_protect_conf_quote(p, dir), ">\n",
                       lines, "</Directory>", NULL);
}
