/* test_protect.c — unit tests for fx_protect.c: protections recognised from
 * paths, from section arguments and rule patterns as real configurations
 * write them (Debian's <Directory />, h5bp's dotfile rule and backup
 * FilesMatch, `^\.ht`, WordPress uploads .htaccess lines), the names that
 * must NOT be taken for a protection, the no-exec directives, and scope
 * narrowing. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_protect.h"
#include "unit.h"

static const char *cls(const char *path, const char *args)
{
    return fx_protect_classify(path, args, NULL);
}

#define CHECK_KIND(got, want) do { const char *g_ = (got), *w_ = (want); \
    unit_checks++; if ((g_ == NULL) != (w_ == NULL) || (g_ && strcmp(g_, w_))) { \
    unit_failures++; fprintf(stderr, "FAIL %s:%d: got [%s] want [%s]\n", \
    __FILE__, __LINE__, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } } while (0)

static void test_paths(void)
{
    CHECK_KIND(cls("/srv/www/.git/config", NULL), "vcs");
    CHECK_KIND(cls("/srv/www/.git", NULL), "vcs");
    CHECK_KIND(cls("/srv/www/app/.svn/entries", NULL), "vcs");
    CHECK_KIND(cls("/srv/www/.hg/store", NULL), "vcs");
    CHECK_KIND(cls("/srv/www/.bzr/x", NULL), "vcs");
    CHECK_KIND(cls("/srv/www/CVS/Root", NULL), "vcs");
    CHECK_KIND(cls("/srv/www/wp-config.php", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/WP-Config.PHP", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/.env", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/.env.production", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/site.key", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/cert.pem", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/config.php", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/sites/default/settings.php", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/.htpasswd", NULL), "secret-file");
    CHECK_KIND(cls("/home/u/.ssh/id_rsa", NULL), "secret-file");
    CHECK_KIND(cls("/srv/www/index.php.bak", NULL), "backup");
    CHECK_KIND(cls("/srv/www/index.php~", NULL), "backup");
    CHECK_KIND(cls("/srv/www/x.old", NULL), "backup");
    CHECK_KIND(cls("/srv/www/x.orig", NULL), "backup");
    CHECK_KIND(cls("/srv/www/.index.php.swp", NULL), "backup");
    CHECK_KIND(cls("/srv/www/dump.sql", NULL), "backup");
    CHECK_KIND(cls("/srv/www/site.tar.gz", NULL), "backup");
    CHECK_KIND(cls("/srv/www/#notes#", NULL), "backup");
    CHECK_KIND(cls("/srv/www/.htaccess", NULL), "dotfiles");
    CHECK_KIND(cls("/srv/www/.hidden/x.txt", NULL), "dotfiles");
    CHECK_KIND(cls("/srv/www/.DS_Store", NULL), "dotfiles");
    /* not protections */
    CHECK_KIND(cls("/srv/www/.well-known/acme-challenge/t", NULL), NULL);
    CHECK_KIND(cls("/srv/www/index.html", NULL), NULL);
    CHECK_KIND(cls("/srv/www/old/index.html", NULL), NULL);
    CHECK_KIND(cls("/srv/www/backup/x.txt", NULL), NULL);
    CHECK_KIND(cls("/srv/www/keys.html", NULL), NULL);
    CHECK_KIND(cls("/srv/www/mysql.html", NULL), NULL);
    CHECK_KIND(cls("/srv/www/a/../b", NULL), NULL);
    CHECK_KIND(cls("/srv/www/gitweb/x", NULL), NULL);
    CHECK_KIND(cls("/srv/www/settings.php.html", NULL), NULL);
    CHECK_KIND(cls(NULL, NULL), NULL);
    CHECK_KIND(cls("", NULL), NULL);
    CHECK(fx_protect_secret_name("/srv/www/wp-config.php"));
    CHECK(fx_protect_secret_name("server.key"));
    CHECK(!fx_protect_secret_name("/srv/www/config.php/"));
    CHECK(!fx_protect_secret_name("/srv/www/index.php"));
    CHECK(!fx_protect_secret_name(NULL));
}

static void test_sections(void)
{
    const char *alt = NULL;
    /* Debian's apache2.conf */
    CHECK_KIND(fx_protect_classify("/srv/backup/x.txt", "/", &alt),
               "filesystem-root");
    CHECK(alt && strstr(alt, "never change the one for /"));
    CHECK_KIND(cls("/srv/backup/x.txt", "\"/\""), "filesystem-root");
    /* as ap_directive_t keeps a container's arguments */
    CHECK_KIND(cls("/srv/backup/x.txt", "/>"), "filesystem-root");
    CHECK_KIND(cls("/srv/www/.htaccess", "\"^\\.ht\">"), "dotfiles");
    CHECK_KIND(cls(NULL, "/srv/www/.git>"), "vcs");
    CHECK_KIND(cls(NULL, "/srv/www/deny>"), NULL);
    /* Debian's apache2.conf and httpd's default httpd.conf */
    CHECK_KIND(cls("/srv/www/.htaccess", "\"^\\.ht\""), "dotfiles");
    CHECK_KIND(cls("/srv/www/.htaccess", "~ \"^\\.ht\""), "dotfiles");
    CHECK_KIND(cls("/srv/www/.htaccess", "\".ht*\""), "dotfiles");
    /* h5bp's file_access.conf */
    CHECK_KIND(cls("/srv/www/.x", "\"(^|/)\\.\""), "dotfiles");
    CHECK_KIND(cls("/srv/www/a.bak", "\"(^#.*#|\\.(bak|conf|dist|fla|in[ci]|"
                   "log|orig|psd|sh|sql|sw[op])|~)$\""), "backup");
    CHECK_KIND(cls(NULL, "\"/\\.git\""), "vcs");
    CHECK_KIND(cls(NULL, "^/(\\.svn|\\.git)/"), "vcs");
    CHECK_KIND(cls(NULL, "\"wp-config\\.php\""), "secret-file");
    CHECK_KIND(cls(NULL, "wp-config.php"), "secret-file");
    CHECK_KIND(cls(NULL, "\"\\.(env|key|pem)$\""), "secret-file");
    CHECK_KIND(cls(NULL, "\\.(sql|tar\\.gz)$"), "backup");
    CHECK_KIND(cls(NULL, "/srv/www/.git"), "vcs");
    /* script files denied in an upload directory (Sucuri's and iThemes'
     * uploads hardening): upload-noexec; the same section elsewhere is no
     * recognised protection */
    CHECK_KIND(cls("/srv/www/wp-content/uploads/2024/x.php", "*.php"),
               "upload-noexec");
    CHECK_KIND(cls("/srv/www/wp-content/uploads/x.phtml",
                   "\"\\.(?i:php|phtml|php[0-9])$\""), "upload-noexec");
    CHECK_KIND(cls("/srv/www/sites/default/files/x.py",
                   "\\.(pl|py|cgi)$"), "upload-noexec");
    CHECK_KIND(cls("/srv/www/app/x.php", "*.php"), NULL);
    CHECK_KIND(cls("/srv/www/wp-content/uploads/x.jpg", "*.jpg"), NULL);
    CHECK_KIND(cls("/srv/www/wp-content/uploads/x.php", "*.phpx"), NULL);
    /* a dotfile denied by a section that is not about dotfiles */
    CHECK_KIND(fx_protect_classify("/srv/private/.x", "/srv/private", &alt),
               NULL);
    CHECK(alt == NULL);
    CHECK_KIND(cls("/srv/www/old/a", "/srv/www/old"), NULL);
    CHECK_KIND(cls(NULL, "/srv/www/deny"), NULL);
    CHECK_KIND(cls(NULL, "\"^/admin\""), NULL);
    CHECK_KIND(cls(NULL, "\\.(gif|jpe?g|png)$"), NULL);
    CHECK_KIND(cls(NULL, "\"/mysql/\""), NULL);
    CHECK_KIND(cls(NULL, "\"^/folder/\""), NULL);
    CHECK_KIND(cls(NULL, ""), NULL);
    /* every name has an alternative; none says "remove" */
    {
        static const char *const names[] = { "dotfiles", "vcs", "backup",
            "secret-file", "filesystem-root", "upload-noexec", "waf", NULL };
        int i;
        for (i = 0; names[i]; i++) {
            const char *t = fx_protect_alternative(names[i]);
            CHECK(t != NULL);
            CHECK(t && strstr(t, "intended") != NULL);
        }
        CHECK(fx_protect_alternative("nope") == NULL);
        CHECK(fx_protect_alternative(NULL) == NULL);
    }
}

static void test_noexec(void)
{
    CHECK_KIND(fx_protect_noexec_directive("Options", "-ExecCGI"),
               "upload-noexec");
    CHECK_KIND(fx_protect_noexec_directive("options", "-Indexes -execcgi"),
               "upload-noexec");
    CHECK_KIND(fx_protect_noexec_directive("Options", "FollowSymLinks"), NULL);
    CHECK_KIND(fx_protect_noexec_directive("Options", "+ExecCGI"), NULL);
    CHECK_KIND(fx_protect_noexec_directive("RemoveHandler", ".php .phtml"),
               "upload-noexec");
    CHECK_KIND(fx_protect_noexec_directive("RemoveHandler", ""), NULL);
    CHECK_KIND(fx_protect_noexec_directive("php_admin_flag", "engine off"),
               "upload-noexec");
    CHECK_KIND(fx_protect_noexec_directive("php_flag", "engine Off"),
               "upload-noexec");
    CHECK_KIND(fx_protect_noexec_directive("php_admin_value", "engine 0"),
               "upload-noexec");
    CHECK_KIND(fx_protect_noexec_directive("php_flag", "engine on"), NULL);
    CHECK_KIND(fx_protect_noexec_directive("php_flag", "display_errors off"),
               NULL);
    CHECK_KIND(fx_protect_noexec_directive("SetHandler", "None"),
               "upload-noexec");
    CHECK_KIND(fx_protect_noexec_directive("SetHandler", "cgi-script"), NULL);
    CHECK_KIND(fx_protect_noexec_directive(NULL, "x"), NULL);
    /* the WordPress security plugins' line */
    CHECK(fx_protect_trap_mapping("cgi-script .php .pl .py .jsp .asp .sh "
                                  ".cgi"));
    CHECK(fx_protect_trap_mapping("cgi-script .php"));
    CHECK(fx_protect_trap_mapping("cgi-script .pl .py .sh"));
    CHECK(!fx_protect_trap_mapping("cgi-script .cgi"));
    CHECK(!fx_protect_trap_mapping("cgi-script .cgi .pl"));
    CHECK(!fx_protect_trap_mapping("application/x-httpd-php .php"));
    CHECK(!fx_protect_trap_mapping(NULL));
    CHECK(fx_protect_upload_dir("/srv/www/wp-content/uploads/2024/01/"));
    CHECK(fx_protect_upload_dir("/srv/www/upload"));
    CHECK(fx_protect_upload_dir("/srv/www/sites/default/files/x.php"));
    CHECK(!fx_protect_upload_dir("/srv/www/files/x.php"));
    CHECK(!fx_protect_upload_dir("/srv/www/cgi/t.cgi"));
    CHECK(!fx_protect_upload_dir("/srv/www/myuploads/t.cgi"));
    CHECK(!fx_protect_upload_dir(NULL));
}

static void test_scope(apr_pool_t *p)
{
    /* Debian's <Directory /> denying Alias /backup /srv/backup */
    CHECK_STR(fx_protect_scope_dir(p, "/srv/backup/x.txt", 0, "/"),
              "/srv/backup");
    CHECK_STR(fx_protect_scope_dir(p, "/srv/backup/x.txt", 0, NULL),
              "/srv/backup");
    CHECK_STR(fx_protect_scope_dir(p, "/srv/backup/", 1, "/"), "/srv/backup");
    CHECK_STR(fx_protect_scope_dir(p, "/srv/backup", 1, "/"), "/srv/backup");
    CHECK_STR(fx_protect_scope_dir(p, "/srv//backup//sub/y", 0, "/srv"),
              "/srv/backup/sub");
    CHECK_STR(fx_protect_scope_dir(p, "/x", 0, "/"), "/");
    CHECK_STR(fx_protect_scope_dir(p, "/", 1, "/"), "/");
    /* never wider than the request needs, even for a deep section */
    CHECK_STR(fx_protect_scope_dir(p, "/srv/a/b/c.txt", 0, "/srv/a"),
              "/srv/a/b");
    CHECK_STR(fx_protect_scope_dir(p, "/srv/a/b/c.txt", 0, "/srv/a/b/"),
              "/srv/a/b");
    /* a wildcard section is no directory of its own */
    CHECK_STR(fx_protect_scope_dir(p, "/srv/a/b/c.txt", 0, "/srv/*"),
              "/srv/a/b");
    CHECK(fx_protect_scope_dir(p, "rel/x", 0, NULL) == NULL);
    CHECK(fx_protect_scope_dir(p, NULL, 0, NULL) == NULL);
    CHECK(fx_protect_within("/srv/a/b", "/srv/a"));
    CHECK(fx_protect_within("/srv/a", "/srv/a/"));
    CHECK(fx_protect_within("/srv/a", "/"));
    CHECK(!fx_protect_within("/srv/ab", "/srv/a"));
    CHECK(!fx_protect_within("/srv", "/srv/a"));
    CHECK(!fx_protect_within(NULL, "/"));
    CHECK_STR(fx_protect_dir_section(p, "/srv/backup", "Require all granted"),
              "<Directory /srv/backup>\n    Require all granted\n</Directory>");
    CHECK_STR(fx_protect_dir_section(p, "/srv/my dir", "A\nB"),
              "<Directory \"/srv/my dir\">\n    A\n    B\n</Directory>");
    CHECK_STR(fx_protect_conf_quote(p, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    CHECK_STR(fx_protect_conf_quote(p, "plain.php"), "plain.php");
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_paths();
    test_sections();
    test_noexec();
    test_scope(p);
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
