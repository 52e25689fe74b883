/* fx_protect.h — recognises deliberate protections (a deny that works as
 * intended) from a path, a section's argument or a rule's pattern, and a
 * directive that keeps a directory from executing code; gives the narrow
 * alternative to offer instead of removing the protection; and narrows a
 * fix's scope to the directory the request maps to.
 *
 * Pure: APR and libc only, no request_rec; unit tested by
 * tests/unit/test_protect.c.  The patterns are documented in
 * docs/filesystem.md ("Recognised protections").  Other subsystems (authz,
 * rewrite, WAF) may call every function here; the API is kept stable. */
#ifndef FX_PROTECT_H
#define FX_PROTECT_H

#include <apr_pools.h>

/* The pattern names: values of the entry's "protection" key. */
#define FX_PROT_DOTFILES   "dotfiles"
#define FX_PROT_VCS        "vcs"
#define FX_PROT_BACKUP     "backup"
#define FX_PROT_SECRET     "secret-file"
#define FX_PROT_ROOT       "filesystem-root"
#define FX_PROT_NOEXEC     "upload-noexec"
#define FX_PROT_WAF        "waf"

/* Which protection a denial is.
 *   path          the file (or URL path) the request maps to; may be NULL.
 *   section_args  the argument of the section that denies (`/` of
 *                 <Directory />, `"^\.ht"` of a <FilesMatch>, `~ "..."`),
 *                 or the pattern of the rule that denies (a RewriteRule's
 *                 pattern); NULL when the denying rule has none.  Quotes
 *                 and the closing '>' that ap_directive_t's args keep
 *                 ("/>") are ignored.
 * With section_args, only the section's own pattern decides (a dotfile
 * denied by <Directory /srv/private> is not a dotfile protection), except
 * that a pattern for script files (<Files *.php>) denying a path in an
 * upload directory is FX_PROT_NOEXEC; without it, the path's name decides
 * (the caller knows the rule is about this file).
 * Returns a FX_PROT_* name or NULL; *alternative (if non-NULL) gets the
 * static narrow-alternative text for it (NULL when nothing is recognised). */
const char *fx_protect_classify(const char *path, const char *section_args,
                                const char **alternative);

/* The name-based part alone: a path's components (VCS directory, secret
 * file name, backup name, dotfile).  FX_PROT_* or NULL. */
const char *fx_protect_classify_path(const char *path);

/* A rule's pattern or section argument alone.  FX_PROT_* or NULL. */
const char *fx_protect_classify_pattern(const char *pattern);

/* 1 when the last component of path is named like a file of secrets
 * (wp-config.php, .env, *.key, *.pem, config.php, settings.php, .htpasswd,
 * id_rsa, ...). */
int fx_protect_secret_name(const char *path);

/* The narrow-alternative text of a FX_PROT_* name (static), NULL if the
 * name is unknown. */
const char *fx_protect_alternative(const char *pattern);

/* Does directive `name args` keep scripts from running?  Recognised:
 * `Options ... -ExecCGI`, `RemoveHandler`, `RemoveType` of a script type,
 * `php_admin_flag engine off` (php_flag, php_admin_value, php_value),
 * `SetHandler None`.  Returns FX_PROT_NOEXEC or NULL. */
const char *fx_protect_noexec_directive(const char *name, const char *args);

/* 1 for `AddHandler cgi-script` arguments that map script languages which
 * are never CGI programs (.php .jsp .asp ...) or at least three script
 * extensions to cgi-script: the uploads trick that makes such files
 * refused under -ExecCGI instead of run or served. */
int fx_protect_trap_mapping(const char *addhandler_args);

/* 1 when a path component names an upload directory: uploads, upload,
 * userfiles, attachments, or Drupal's sites/NAME/files. */
int fx_protect_upload_dir(const char *path);

/* The directory a fix should be scoped to: the directory the request maps
 * to (filename itself when is_dir, else its parent), never an ancestor of
 * it; without a trailing slash ("/" stays "/").  section_path, when given,
 * is the denying section's directory: the result is never wider than it
 * either.  NULL when filename is not absolute. */
const char *fx_protect_scope_dir(apr_pool_t *p, const char *filename,
                                 int is_dir, const char *section_path);

/* 1 when path is dir or below it (component-wise: /srv/ab is not below
 * /srv/a). */
int fx_protect_within(const char *path, const char *dir);

/* The text of a <Directory> section for dir holding body (lines joined by
 * \n, indented by four spaces), the path quoted when it needs it, e.g.
 * "<Directory /srv/backup>\n    Require all granted\n</Directory>". */
const char *fx_protect_dir_section(apr_pool_t *p, const char *dir,
                                   const char *body);

/* An argument quoted for httpd's configuration parser (double quotes, "
 * and \ escaped) when it contains a space, a quote or a backslash; else
 * as is. */
const char *fx_protect_conf_quote(apr_pool_t *p, const char *s);

#endif
