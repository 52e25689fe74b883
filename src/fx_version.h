/* fx_version.h — what the RUNNING httpd is, for behaviour that changed
 * between 2.4.x releases (a module built against 2.4.71 headers may be
 * loaded by an older 2.4 with the same MMN major).  Compile-time macros
 * (AP_SERVER_*_NUMBER, AP_MODULE_MAGIC_AT_LEAST) say only what the headers
 * were.
 *
 * Known uses:
 *  - mod_rewrite refuses a '?' produced by a back-reference unless the rule
 *    has UnsafeAllow3F (AH10508) only since 2.4.60: the rewrite replay
 *    (src/fx_rewrite.c, which hands the flag to the pure matcher in
 *    src/fx_rwmatch.c) must model that check only when
 *    fx_httpd_at_least(2, 4, 60). */
#ifndef FX_VERSION_H
#define FX_VERSION_H

/* 1 when the running httpd is major.minor.patch or newer.  Cheap: reads
 * the version httpd parsed once at startup. */
int fx_httpd_at_least(int major, int minor, int patch);

/* The same test on given numbers (pure, unit tested in
 * tests/unit/test_version.c). */
static inline int fx_version_at_least(int have_major, int have_minor,
                                      int have_patch, int major, int minor,
                                      int patch)
{
    if (have_major != major) {
        return have_major > major;
    }
    if (have_minor != minor) {
        return have_minor > minor;
    }
    return have_patch >= patch;
}

/* Whose credentials a filesystem explanation may use.  Most MPMs drop
 * privileges before child_init and never change them: read once per
 * child.  mpm-itk forks per connection and switches to the vhost's
 * AssignUserID during the request (the child starts as root): read the
 * process's credentials again at 403 time, when the switch is done.
 * mod_ruid2 switches per request and back again, so what the process holds
 * when the entry is built need not be what the failed system call used:
 * refuse.  Decided once per generation in post_config. */
enum { FX_CREDS_PER_CHILD = 0, FX_CREDS_PER_REQUEST = 1,
       FX_CREDS_REFUSED = 2 };
int fx_server_creds_mode(void);
/* The module that made it so ("mpm-itk", "mod_ruid2"), or NULL. */
const char *fx_server_creds_switcher(void);

#endif
