"""test_authz_providers.py — one real-httpd denial per authz provider family
that test_authz.py does not reach (issue 3): `Require ssl` and
`Require ssl-verify-client` (mod_ssl), `Require dbm-group` (mod_authz_dbm
over a DBM file made by htdbm), `Require dbd-group` (mod_authz_dbd over
SQLite through mod_dbd), `Require forward-dns` (mod_authz_host) and
`Require ldap-user` / `ldap-group` (mod_authnz_ldap against a throwaway
slapd on 127.0.0.1) and `Require file-group` (mod_authz_groupfile with
mod_authz_owner).

Each denial asserts the Require line named (directive, file, line), the
trail (directive, line and result per item) and the client attribute the
entry shows; the allowed counterpart writes nothing; and every status equals
what httpd without the module answers.  One server holds every scenario
(plus one without the module for the comparison); the certificates, the DBM
file, the SQLite database and the LDAP directory are made once, for both."""
import base64
import grp
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest

import harness
import tlsutil
from harness import decode

HTDBM = "/usr/bin/htdbm"
HTPASSWD = "/usr/bin/htpasswd"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SUFFIX = "dc=fx,dc=test"
GROUP_DN = "cn=admins," + SUFFIX


def basic(user):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%spw" % (user, user)).encode()).decode()}


BOB, ALICE = basic("bob"), basic("alice")

MODULES = ["socache_shmcb", "ssl", "authn_dbm", "authz_dbm", "dbd",
           "authn_dbd", "authz_dbd", "ldap", "authnz_ldap", "authz_groupfile",
           "authz_owner"]

CONF = r'''
SSLSessionCache shmcb:{root}/logs/ssl_scache(512000)
Listen 127.0.0.1:{tls_port}
<VirtualHost 127.0.0.1:{tls_port}>
    SSLEngine on
    SSLCertificateFile {data}/pki/server.crt
    SSLCertificateKeyFile {data}/pki/server.key
    SSLCACertificateFile {data}/pki/ca.crt
    SSLVerifyClient optional
    SSLVerifyDepth 2
</VirtualHost>
DBDriver sqlite3
DBDParams "{data}/auth.db"
<Location "/needssl">
    Require ssl
</Location>
<Location "/needcert">
    Require ssl-verify-client
</Location>
<Location "/plainonly">
    <RequireAll>
        Require all granted
        Require not ssl
    </RequireAll>
</Location>
<Directory "{docroot}/dbm">
    AuthType Basic
    AuthName dbm
    AuthBasicProvider dbm
    AuthDBMUserFile {data}/users.dbm
    AuthDBMGroupFile {data}/users.dbm
    AuthzSendForbiddenOnFailure On
    Require dbm-group admins
</Directory>
<Directory "{docroot}/dbd">
    AuthType Basic
    AuthName dbd
    AuthBasicProvider dbd
    AuthDBDUserPWQuery "SELECT password FROM users WHERE name = %s"
    AuthzDBDQuery "SELECT grp FROM groups WHERE name = %s"
    AuthzSendForbiddenOnFailure On
    Require dbd-group admins
</Directory>
<Directory "{docroot}/fwd">
    Require forward-dns localhost
</Directory>
<Directory "{docroot}/ldapuser">
    AuthType Basic
    AuthName ldap
    AuthBasicProvider ldap
    AuthLDAPURL "ldap://127.0.0.1:{ldap_port}/{suffix}?uid"
    AuthzSendForbiddenOnFailure On
    Require ldap-user alice
</Directory>
<Directory "{docroot}/ldapgroup">
    AuthType Basic
    AuthName ldap
    AuthBasicProvider ldap
    AuthLDAPURL "ldap://127.0.0.1:{ldap_port}/{suffix}?uid"
    AuthzSendForbiddenOnFailure On
    Require ldap-group {group}
</Directory>
<Directory "{docroot}/fgroup">
    AuthType Basic
    AuthName fgroup
    AuthUserFile {data}/htpasswd
    AuthGroupFile {data}/groups
    AuthzSendForbiddenOnFailure On
    Require file-group
</Directory>
'''

DIRS = ["needssl", "needcert", "plainonly", "dbm", "dbd", "fwd", "ldapuser", "ldapgroup",
        "fgroup"]

SLAPD_CONF = '''include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {d}/slapd.pid
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "cn=admin,{suffix}"
directory {d}/db
access to * by * read
'''

LDIF = '''dn: {suffix}
objectClass: dcObject
objectClass: organization
o: fx
dc: fx

dn: uid=alice,{suffix}
objectClass: inetOrgPerson
uid: alice
cn: alice
sn: a
userPassword: alicepw

dn: uid=bob,{suffix}
objectClass: inetOrgPerson
uid: bob
cn: bob
sn: b
userPassword: bobpw

dn: {group}
objectClass: groupOfNames
cn: admins
member: uid=alice,{suffix}
'''


def _wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def start_slapd(d):
    """A throwaway slapd on 127.0.0.1 with its own config and mdb database
    under d; returns (port, pid)."""
    os.makedirs(os.path.join(d, "db"))
    conf = os.path.join(d, "slapd.conf")
    with open(conf, "w") as f:
        f.write(SLAPD_CONF.format(d=d, suffix=SUFFIX))
    ldif = os.path.join(d, "data.ldif")
    with open(ldif, "w") as f:
        f.write(LDIF.format(suffix=SUFFIX, group=GROUP_DN))
    subprocess.run([SLAPADD, "-f", conf, "-l", ldif], check=True,
                   capture_output=True)
    port = harness.free_port()
    subprocess.run([SLAPD, "-f", conf, "-h", "ldap://127.0.0.1:%d/" % port],
                   check=True, capture_output=True)
    with open(os.path.join(d, "slapd.pid")) as f:
        pid = int(f.read().strip())
    assert _wait_port(port), "slapd did not listen"
    return port, pid


def stop_slapd(pid):
    try:
        os.kill(pid, 15)
    except OSError:
        return
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
            time.sleep(0.05)
        except OSError:
            return


def make_data(d):
    """Certificates, the DBM user+group file, the SQLite database."""
    pki = os.path.join(d, "pki")
    tlsutil.make_ca(pki, "ca", "FX Test CA")
    tlsutil.make_leaf(pki, "server", "/CN=localhost", ext=tlsutil.SERVER_EXT)
    tlsutil.make_leaf(pki, "good", "/CN=alice/O=Good Org")
    tlsutil.readable(pki)
    # One DBM file for users and groups: htdbm stores "hash:comment" and
    # mod_authz_dbm reads the groups after the colon.
    dbm = os.path.join(d, "users.dbm")
    subprocess.run([HTDBM, "-cbt", dbm, "alice", "alicepw", "admins,staff"],
                   check=True, capture_output=True)
    subprocess.run([HTDBM, "-bt", dbm, "bob", "bobpw", "staff"],
                   check=True, capture_output=True)
    db = sqlite3.connect(os.path.join(d, "auth.db"))
    db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, password TEXT)")
    db.execute("CREATE TABLE groups (name TEXT, grp TEXT)")
    for user in ("alice", "bob"):
        line = subprocess.run([HTPASSWD, "-nbm", user, user + "pw"],
                              check=True, capture_output=True,
                              text=True).stdout.strip()
        db.execute("INSERT INTO users VALUES (?, ?)",
                   (user, line.split(":", 1)[1]))
    db.execute("INSERT INTO groups VALUES ('alice', 'admins')")
    db.execute("INSERT INTO groups VALUES ('bob', 'staff')")
    db.commit()
    db.close()
    # file-group: alice is in the group that owns the served files (the
    # test runner's), bob is not.
    pw = os.path.join(d, "htpasswd")
    subprocess.run([HTPASSWD, "-cbm", pw, "alice", "alicepw"], check=True,
                   capture_output=True)
    subprocess.run([HTPASSWD, "-bm", pw, "bob", "bobpw"], check=True,
                   capture_output=True)
    with open(os.path.join(d, "groups"), "w") as f:
        f.write("%s: alice\n" % grp.getgrgid(os.getegid()).gr_name)
    for f in os.listdir(d):
        if os.path.isfile(os.path.join(d, f)):
            os.chmod(os.path.join(d, f), 0o644)


def build(data, ldap_port, with_module=True):
    h = harness.Httpd(name="azprov", with_module=with_module,
                      extra_modules=MODULES)
    h.tls_port = harness.free_port()
    for d in DIRS:
        h.mkdir("htdocs/" + d)
        h.write("htdocs/%s/index.html" % d, "ok\n")
    h.body += CONF.format(root=h.root, docroot=h.docroot, data=data,
                          tls_port=h.tls_port, ldap_port=ldap_port,
                          suffix=SUFFIX, group=GROUP_DN)
    h.pki = os.path.join(data, "pki")
    return h


@pytest.fixture(scope="module")
def data():
    for tool in (HTDBM, HTPASSWD, SLAPD, SLAPADD):
        if not os.path.exists(tool):
            pytest.skip("%s missing (scripts/deps.sh installs it)" % tool)
    d = tempfile.mkdtemp(prefix="fx-azprov-data-")
    os.chmod(d, 0o755)
    pid = None
    try:
        make_data(d)
        port, pid = start_slapd(os.path.join(d, "ldap"))
        yield d, port
    finally:
        if pid:
            stop_slapd(pid)
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(data):
    h = build(*data)
    h.start()
    yield h
    h.cleanup()


# (how, path, kwargs) of every request, shared with the no-module comparison.
REQUESTS = [
    ("plain", "/needssl/", {}), ("tls", "/needssl/", {}),
    ("tls", "/needcert/", {}), ("tls", "/needcert/", {"cert": "good"}),
    ("plain", "/needcert/", {}),
    ("tls", "/plainonly/", {}), ("plain", "/plainonly/", {}),
    ("plain", "/dbm/", {}), ("plain", "/dbm/", {"headers": BOB}),
    ("plain", "/dbm/", {"headers": ALICE}),
    ("plain", "/dbd/", {"headers": BOB}), ("plain", "/dbd/", {"headers": ALICE}),
    ("plain", "/fwd/", {"source": "127.0.0.2"}), ("plain", "/fwd/", {}),
    ("plain", "/ldapuser/", {"headers": BOB}),
    ("plain", "/ldapuser/", {"headers": ALICE}),
    ("plain", "/ldapgroup/", {"headers": BOB}),
    ("plain", "/ldapgroup/", {"headers": ALICE}),
    ("plain", "/fgroup/", {"headers": BOB}), ("plain", "/fgroup/", {"headers": ALICE}),
]


def send(h, how, path, **kw):
    if how == "tls":
        return tlsutil.tls_get(h.pki, h.tls_port, path, **kw)
    return h.get(path, **kw)


def one(h, how, path, **kw):
    """Send one request, return (response, the single new entry or None)."""
    return harness.response_and_entry(h, lambda: send(h, how, path, **kw))


d = harness.field


def trail(e):
    return [(decode(t["directive"]), decode(t["file"]), t["line"],
             t["negated"], t["result"], t.get("pass")) for t in e["trail"]]


def check_rule(h, e, directive, phase):
    """The entry names `directive` of h's httpd.conf as the deciding rule."""
    line = h.conf_line_of("    " + directive + "\n")
    assert d(e, "reason") == "authz"
    assert d(e, "module") == "mod_authz_core.c"
    assert d(e, "phase") == phase
    assert d(e, "decided_by") == "rule"
    assert d(e, "directive") == directive
    assert d(e, "file") == h.conf_file
    assert e["line"] == line
    return line


def check_user_denial(h, path, directive):
    """bob authenticates but does not satisfy `directive`
    (AuthzSendForbiddenOnFailure On): 403 naming the rule and the user;
    alice gets in and nothing is written."""
    r, e = one(h, "plain", path, headers=BOB)
    assert r.status == 403
    line = check_rule(h, e, directive, "auth_checker")
    sec = h.conf_line_of('<Directory "%s%s">' % (h.docroot, path.rstrip("/")))
    assert d(e, "section") == '<Directory "%s%s"> (%s:%d)' % (
        h.docroot, path.rstrip("/"), h.conf_file, sec)
    assert d(e, "user") == "bob"
    assert d(e, "rule_saw") == "user"
    # Before authentication the provider has no user; after it, bob fails.
    assert trail(e) == [(directive, h.conf_file, line, False,
                         "denied-no-user", 1),
                        (directive, h.conf_file, line, False, "denied", 2)]
    # issue 13: the narrow change, this user only, next to the rule (a
    # file-group/file-owner rule is about the file, no line is proposed)
    assert d(e, "hint") == ("the authenticated user bob does not satisfy "
                            "`%s`; %s" % (directive, "grant that user or "
                                          "change the rule"
                                          if " file-" in directive else
                                          "to let this user in, add `Require "
                                          "user bob` next to it (this user "
                                          "only)"))
    assert "AuthzSendForbiddenOnFailure On (%s:%d) turns the 401 into 403" % (
        h.conf_file, line - 1) in d(e, "detail")
    r, e = one(h, "plain", path, headers=ALICE)
    assert r.status == 200 and e is None


# -- mod_ssl ----------------------------------------------------------------

def test_require_ssl_over_plain_http(srv):
    r, e = one(srv, "plain", "/needssl/")
    assert r.status == 403
    line = check_rule(srv, e, "Require ssl", "access_checker_ex")
    assert d(e, "section") == '<Location "/needssl"> (%s:%d)' % (
        srv.conf_file, line - 1)
    assert trail(e) == [("Require ssl", srv.conf_file, line, False,
                         "denied", None)]
    assert d(e, "rule_saw") == "SSL_CLIENT_VERIFY"
    assert d(e, "ssl_client_verify") == "(not an SSL connection)"
    assert d(e, "hint") == ("the request did not arrive over TLS; use "
                            "https:// for this URL")
    assert "user" not in e
    r, e = one(srv, "tls", "/needssl/")
    assert r.status == 200 and e is None


def test_require_ssl_verify_client_without_certificate(srv):
    r, e = one(srv, "tls", "/needcert/")
    assert r.status == 403
    line = check_rule(srv, e, "Require ssl-verify-client", "access_checker_ex")
    assert d(e, "section") == '<Location "/needcert"> (%s:%d)' % (
        srv.conf_file, line - 1)
    assert trail(e) == [("Require ssl-verify-client", srv.conf_file, line,
                         False, "denied", None)]
    assert d(e, "rule_saw") == "SSL_CLIENT_VERIFY"
    # SSLVerifyClient optional and no certificate sent
    assert d(e, "ssl_client_verify") == "NONE"
    assert d(e, "hint") == ("the client certificate was not verified "
                            "(SSL_CLIENT_VERIFY NONE); present a certificate "
                            "the server trusts")


def test_require_not_ssl_over_tls(srv):
    """A negated rule denies because of what the request has: the hint
    says so instead of asking for TLS."""
    r, e = one(srv, "tls", "/plainonly/")
    assert r.status == 403
    line = check_rule(srv, e, "Require not ssl", "access_checker_ex")
    assert [t[:5] for t in trail(e)] == [
        ("Require all granted", srv.conf_file, line - 1, False, "granted"),
        ("Require not ssl", srv.conf_file, line, True, "granted")]
    assert d(e, "hint") == ("`Require not ssl` refuses what this request has "
                            "(it arrived over TLS); remove that rule if such "
                            "clients should get in")
    r, e = one(srv, "plain", "/plainonly/")
    assert r.status == 200 and e is None


def test_require_ssl_verify_client_with_certificate(srv):
    r, e = one(srv, "tls", "/needcert/", cert="good")
    assert r.status == 200 and b"ok" in r.body and e is None


def test_require_ssl_verify_client_over_plain_http(srv):
    r, e = one(srv, "plain", "/needcert/")
    assert r.status == 403
    check_rule(srv, e, "Require ssl-verify-client", "access_checker_ex")
    assert d(e, "ssl_client_verify") == "(not an SSL connection)"
    # no certificate can be presented without TLS: the hint says so
    assert d(e, "hint") == ("the request did not arrive over TLS; use "
                            "https:// for this URL")


# -- DBM, DBD ---------------------------------------------------------------

def test_dbm_group(srv):
    r, e = one(srv, "plain", "/dbm/")
    assert r.status == 401 and e is None
    check_user_denial(srv, "/dbm/", "Require dbm-group admins")


def test_dbd_group(srv):
    check_user_denial(srv, "/dbd/", "Require dbd-group admins")


# -- forward-dns --------------------------------------------------------------

def test_forward_dns_other_address(srv):
    # localhost resolves to 127.0.0.1 only; the client comes from 127.0.0.2.
    addrs = {a[4][0] for a in socket.getaddrinfo("localhost", None)}
    assert "127.0.0.2" not in addrs and "127.0.0.1" in addrs, addrs
    r, e = one(srv, "plain", "/fwd/", source="127.0.0.2")
    assert r.status == 403
    line = check_rule(srv, e, "Require forward-dns localhost",
                      "access_checker_ex")
    assert d(e, "section") == '<Directory "%s/fwd"> (%s:%d)' % (
        srv.docroot, srv.conf_file, line - 1)
    assert trail(e) == [("Require forward-dns localhost", srv.conf_file,
                         line, False, "denied", None)]
    assert d(e, "client_ip") == "127.0.0.2" and "peer_ip" not in e
    assert d(e, "rule_saw") == "client_ip 127.0.0.2"
    assert "remote_host" not in e
    assert d(e, "hint") == ("the client address 127.0.0.2 is not among the "
                            "addresses localhost resolves to; add `Require "
                            "ip 127.0.0.2` to this section (this address only)")
    r, e = one(srv, "plain", "/fwd/")
    assert r.status == 200 and e is None


# -- LDAP ---------------------------------------------------------------------

def test_ldap_user(srv):
    check_user_denial(srv, "/ldapuser/", "Require ldap-user alice")


def test_ldap_group(srv):
    check_user_denial(srv, "/ldapgroup/", "Require ldap-group " + GROUP_DN)


# -- file-group ------------------------------------------------------------------

def test_file_group(srv):
    index = os.path.join(srv.docroot, "fgroup", "index.html")
    assert os.stat(index).st_gid == os.getegid()
    check_user_denial(srv, "/fgroup/", "Require file-group")


# -- transparency ---------------------------------------------------------------

def test_statuses_identical_without_module(srv, data):
    plain = build(*data, with_module=False)
    plain.start()
    try:
        seen = []
        for how, path, kw in REQUESTS:
            a = send(srv, how, path, **kw).status
            b = send(plain, how, path, **kw).status
            assert a == b, (how, path, kw, a, b)
            seen.append(a)
        # the scenarios above really are denials, passes and challenges
        assert seen.count(403) == 10 and seen.count(200) == 9
        assert seen.count(401) == 1
        assert "forbidden_explain" not in plain.read_error_log()
    finally:
        plain.cleanup()
