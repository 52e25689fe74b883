/* fx_repeat_tab.c — the pure logic of ForbiddenExplainRepeat: the cause key
 * of an entry and the bounded table of causes in their window (see
 * fx_repeat_tab.h).  The table lives in memory shared by every child, so
 * each slot has its own small lock (a compare-and-swap word): a child that
 * cannot take it at once writes its entry in full rather than wait. */
#include <string.h>
#include <stdlib.h>
#include <sched.h>
#include <arpa/inet.h>
#include "apr_strings.h"
#include "apr_atomic.h"
#include "fx_repeat_tab.h"

/* -------------------------------------------------------------------- */
/* the cause key                                                         */

/* The facts that say what decided the 403 (fx_rt_key adds the virtual host,
 * and path, rule_saw and detail under the conditions written below).  A
 * fact an entry does not have is simply absent from its key.  Facts that
 * follow from these (protection: from the rule and the path) and facts
 * only a full entry has (hint, fix, blockers, hint_verified) are not in
 * it, so a key is the same whether the entry was built cheap or in full. */
#define FX_RT_FACT(name) { name, sizeof(name) - 1 }
static const struct {
    const char *name;
    apr_size_t len;
} fx_rt_cause_facts[] = {
    FX_RT_FACT("reason"), FX_RT_FACT("module"), FX_RT_FACT("phase"),
    FX_RT_FACT("ah"), FX_RT_FACT("directive"), FX_RT_FACT("file"),
    FX_RT_FACT("line"), FX_RT_FACT("section"), FX_RT_FACT("decided_by"),
    FX_RT_FACT("env"), FX_RT_FACT("matched"), FX_RT_FACT("user"),
    FX_RT_FACT("trail"), FX_RT_FACT("responsible"),
    FX_RT_FACT("conditions"),           /* FX_RT_CONDITIONS */
    FX_RT_FACT("missing"), FX_RT_FACT("perm_class"), FX_RT_FACT("mode_octal"),
    FX_RT_FACT("owner_uid"), FX_RT_FACT("group_gid"), FX_RT_FACT("path_type"),
    FX_RT_FACT("acl"), FX_RT_FACT("lsm"), FX_RT_FACT("mount"),
    FX_RT_FACT("os_error"), FX_RT_FACT("symlink_cause"),
    FX_RT_FACT("symlink_target"), FX_RT_FACT("target_denied_at"),
    FX_RT_FACT("script"), FX_RT_FACT("htaccess"),
    FX_RT_FACT("htaccess_ignored"), FX_RT_FACT("via"), FX_RT_FACT("handler"),
    FX_RT_FACT("backend"), FX_RT_FACT("stated_by"),
    FX_RT_FACT("blocked_host"), FX_RT_FACT("blocked_ip"),
    FX_RT_FACT("waf_rule_id"), FX_RT_FACT("waf_phase"),
    FX_RT_FACT("waf_mode"), FX_RT_FACT("waf_variable"),
    FX_RT_FACT("ssl_verify_error"), FX_RT_FACT("ssl_client_verify"),
    FX_RT_FACT("directives_untraced"), { NULL, 0 }
};
#define FX_RT_CONDITIONS 14

/* Reasons whose path is the thing that failed (the component, the link,
 * the directory without index, the script), not just what was asked. */
static int fx_rt_path_decides(const char *reason)
{
    static const char *const r[] = { "fs-permission", "symlink", "htaccess",
                                     "no-index", "exec-cgi", NULL };
    int i;
    for (i = 0; reason && r[i]; i++) {
        if (!strcmp(reason, r[i])) {
            return 1;
        }
    }
    return 0;
}

const char *fx_rt_address_class(const char *addr)
{
    unsigned char b[16];
    char *pct;
    char buf[64];

    if (!addr || strlen(addr) >= sizeof(buf)) {
        return "unknown";
    }
    strcpy(buf, addr);
    if ((pct = strchr(buf, '%')) != NULL) {
        *pct = '\0';                    /* fe80::1%eth0 */
    }
    if (inet_pton(AF_INET, buf, b) == 1) {
        if (b[0] == 127) return "v4-loopback";
        if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16)
            || (b[0] == 192 && b[1] == 168)) return "v4-private";
        if (b[0] == 169 && b[1] == 254) return "v4-link-local";
        if (b[0] == 100 && (b[1] & 0xc0) == 64) return "v4-shared";
        if (b[0] >= 224 && b[0] < 240) return "v4-multicast";
        if (!b[0] && !b[1] && !b[2] && !b[3]) return "v4-unspecified";
        return "v4-public";
    }
    if (inet_pton(AF_INET6, buf, b) == 1) {
        static const unsigned char v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,
                                                    0xff,0xff };
        int zero = 1, i;
        for (i = 0; i < 15; i++) {
            zero = zero && !b[i];
        }
        if (zero && b[15] == 1) return "v6-loopback";
        if (zero && !b[15]) return "v6-unspecified";
        if (!memcmp(b, v4mapped, 12)) {
            char v4[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, b + 12, v4, sizeof(v4));
            return fx_rt_address_class(v4);
        }
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "v6-link-local";
        if ((b[0] & 0xfe) == 0xfc) return "v6-private";
        if (b[0] == 0xff) return "v6-multicast";
        return "v6-public";
    }
    return "unknown";
}

/* "client_ip 203.0.113.9 (... mod_remoteip ...)" says which address an
 * address rule saw: its class is the attribute, the address itself is in
 * the repeat line. */
static const char *fx_rt_rule_saw(apr_pool_t *p, const char *saw)
{
    const char *addr, *end;
    if (strncmp(saw, "client_ip ", 10) != 0) {
        return saw;
    }
    addr = saw + 10;
    end = strchr(addr, ' ');
    return apr_pstrcat(p, "client_ip ",
                       fx_rt_address_class(end ? apr_pstrndup(p, addr, end - addr)
                                               : addr),
                       strstr(saw, "mod_remoteip") ? " via mod_remoteip" : "",
                       NULL);
}

/* A rendered list without the members that say what a RewriteCond tested
 * (the request's own text: the held/failed results stay).  Rendered values
 * are log-safe, so no string holds a raw '"'. */
static const char *fx_rt_strip_tested(apr_pool_t *p, const char *json)
{
    static const char tag[] = "\"tested\":\"";
    char *out = apr_pstrdup(p, json), *at;
    while ((at = strstr(out, tag)) != NULL) {
        char *end = strchr(at + sizeof(tag) - 1, '"');
        if (!end) {
            break;
        }
        end++;
        if (*end == ',') {
            end++;
        }
        else if (at > out && at[-1] == ',') {
            at--;
        }
        memmove(at, end, strlen(end) + 1);
    }
    return out;
}

/* The key is built in one buffer of the slot's size: "name:len:value;"
 * per fact (the length makes it unambiguous whatever the value holds). */
typedef struct {
    char buf[FX_RT_KEY_MAX];
    apr_size_t n;
    int over;
} fx_rt_keybuf;

static void fx_rt_add(fx_rt_keybuf *k, const char *s, apr_size_t len)
{
    if (k->over || k->n + len >= sizeof(k->buf)) {
        k->over = 1;
        return;
    }
    memcpy(k->buf + k->n, s, len);
    k->n += len;
}

static void fx_rt_put(fx_rt_keybuf *k, const char *name, const char *value)
{
    char num[24], *d = num + sizeof(num);
    apr_size_t len = strlen(value), v = len;
    *--d = ':';
    do {
        *--d = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fx_rt_add(k, name, strlen(name));
    fx_rt_add(k, ":", 1);
    fx_rt_add(k, d, num + sizeof(num) - d);
    fx_rt_add(k, value, len);
    fx_rt_add(k, ";", 1);
}

const char *fx_rt_key(apr_pool_t *p, const fx_entry *e, const char *vhost)
{
    fx_rt_keybuf k;
    const char *reason = fx_entry_get(e, "reason"), *v;
    int i;

    k.n = 0;
    k.over = 0;
    fx_rt_put(&k, "vhost", vhost ? vhost : "");
    for (i = 0; fx_rt_cause_facts[i].name && !k.over; i++) {
        if ((v = fx_entry_get_kl(e, fx_rt_cause_facts[i].name,
                                 fx_rt_cause_facts[i].len)) != NULL) {
            fx_rt_put(&k, fx_rt_cause_facts[i].name,
                      i == FX_RT_CONDITIONS ? fx_rt_strip_tested(p, v) : v);
        }
    }
    if ((v = fx_entry_get(e, "rule_saw")) != NULL) {
        fx_rt_put(&k, "rule_saw", fx_rt_rule_saw(p, v));
    }
    if (fx_rt_path_decides(reason) && (v = fx_entry_get(e, "path")) != NULL) {
        fx_rt_put(&k, "path", v);
    }
    if (fx_entry_get(e, "stated_by") && (v = fx_entry_get(e, "detail"))) {
        fx_rt_put(&k, "detail", v);     /* the reason a module stated */
    }
    return k.over ? NULL : apr_pstrmemdup(p, k.buf, k.n);
}

/* -------------------------------------------------------------------- */
/* the table                                                             */

typedef struct {
    volatile apr_uint32_t lock;     /* 0 free, else the second it was taken */
    apr_uint32_t in_use;
    apr_uint32_t key_len;
    apr_uint32_t repeats;
    apr_uint32_t server_index;
    apr_int32_t line;
    apr_uint64_t key_hash;
    apr_time_t window_start, window_end;
    char full_id[FX_RT_ID_MAX];
    char reason[FX_RT_TEXT_MAX];
    char directive[FX_RT_TEXT_MAX];
    char file[FX_RT_TEXT_MAX];
    char key[FX_RT_KEY_MAX];
} fx_rt_slot;

#define FX_RT_MAGIC 0x46585254u     /* "FXRT" */

struct fx_rt_table {
    apr_uint32_t magic;
    apr_uint32_t nslots;
    apr_uint32_t slot_size;
    apr_uint32_t pad;
    fx_rt_slot slots[];
};

apr_size_t fx_rt_size(unsigned nslots)
{
    return sizeof(fx_rt_table) + (apr_size_t)nslots * sizeof(fx_rt_slot);
}

fx_rt_table *fx_rt_init(void *mem, unsigned nslots)
{
    fx_rt_table *t = mem;
    memset(mem, 0, fx_rt_size(nslots));
    t->nslots = nslots;
    t->slot_size = sizeof(fx_rt_slot);
    t->magic = FX_RT_MAGIC;
    return t;
}

fx_rt_table *fx_rt_attach(void *mem, unsigned nslots)
{
    fx_rt_table *t = mem;
    return t->magic == FX_RT_MAGIC && t->nslots == nslots
           && t->slot_size == sizeof(fx_rt_slot) ? t : NULL;
}

/* FNV-1a over 8-byte words (keys are a kilobyte or two; a byte loop
 * costs more than the rest of a lookup).  Equal keys hash equal, which is
 * all the table needs: it compares whole keys. */
static apr_uint64_t fx_rt_hash(const char *s, apr_size_t n)
{
    apr_uint64_t h = 14695981039346656037ULL, w;
    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    while (n--) {
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    }
    return h;
}

/* The lock word holds the second it was taken (+1, never 0), so a lock
 * left by a child that died holding it is taken over after two seconds.
 * Held for a few hundred instructions; a child that cannot have it at once
 * tries a little, then gives up (the caller writes the entry in full). */
static apr_uint32_t fx_rt_stamp(apr_time_t now)
{
    return (apr_uint32_t)((apr_time_sec(now) & 0x7fffffff) + 1);
}

static int fx_rt_lock(fx_rt_slot *s, apr_time_t now, int tries)
{
    apr_uint32_t mine = fx_rt_stamp(now);
    while (tries-- > 0) {
        apr_uint32_t held = apr_atomic_cas32(&s->lock, mine, 0);
        if (held == 0) {
            return 1;
        }
        if (mine - held > 2 && mine - held < 0x40000000u
            && apr_atomic_cas32(&s->lock, mine, held) == held) {
            return 1;           /* its holder died two seconds ago */
        }
        sched_yield();
    }
    return 0;
}

static void fx_rt_unlock(fx_rt_slot *s)
{
    apr_atomic_set32(&s->lock, 0);
}

/* One more repeat in locked slot s's window; unlocks it. */
static fx_rt_verdict fx_rt_repeat(fx_rt_slot *s, char *full_id,
                                  apr_uint32_t *count)
{
    s->repeats++;
    *count = s->repeats;
    memcpy(full_id, s->full_id, FX_RT_ID_MAX);
    fx_rt_unlock(s);
    return FX_RT_REPEAT;
}

static void fx_rt_copy(char *dst, apr_size_t size, const char *src)
{
    apr_cpystrn(dst, src ? src : "", size);
}

static void fx_rt_closed_of(const fx_rt_slot *s, fx_rt_closed *c)
{
    memcpy(c->reason, s->reason, sizeof(c->reason));
    memcpy(c->directive, s->directive, sizeof(c->directive));
    memcpy(c->file, s->file, sizeof(c->file));
    memcpy(c->full_id, s->full_id, sizeof(c->full_id));
    c->line = s->line;
    c->repeats = s->repeats;
    c->server_index = s->server_index;
    c->window_start = s->window_start;
    c->window_end = s->window_end;
}

static void fx_rt_open(fx_rt_slot *s, const char *key, apr_size_t klen,
                       apr_uint64_t h, apr_time_t now, apr_time_t window,
                       const char *request_id, const fx_rt_label *label)
{
    s->in_use = 1;
    s->key_len = (apr_uint32_t)klen;
    s->key_hash = h;
    memcpy(s->key, key, klen + 1);
    s->repeats = 0;
    s->window_start = now;
    s->window_end = now + window;
    fx_rt_copy(s->full_id, sizeof(s->full_id), request_id);
    fx_rt_copy(s->reason, sizeof(s->reason), label ? label->reason : NULL);
    fx_rt_copy(s->directive, sizeof(s->directive),
               label ? label->directive : NULL);
    fx_rt_copy(s->file, sizeof(s->file), label ? label->file : NULL);
    s->line = label ? label->line : 0;
    s->server_index = label ? label->server_index : 0;
}

#define FX_RT_TRIES 64

fx_rt_verdict fx_rt_note(fx_rt_table *t, const char *key, apr_time_t now,
                         apr_time_t window, const char *request_id,
                         const fx_rt_label *label, char *full_id,
                         apr_uint32_t *count, fx_rt_closed *closed,
                         int *has_closed)
{
    apr_size_t klen = key ? strlen(key) : FX_RT_KEY_MAX;
    apr_uint64_t h;
    unsigned first, i, probes;

    *has_closed = 0;
    if (!t || klen >= FX_RT_KEY_MAX || !request_id
        || strlen(request_id) >= FX_RT_ID_MAX || !t->nslots) {
        return FX_RT_UNTRACKED;
    }
    h = fx_rt_hash(key, klen);
    first = (unsigned)(h % t->nslots);
    probes = t->nslots < FX_RT_PROBES ? t->nslots : FX_RT_PROBES;

    /* The cause's own slot, wherever among the probed ones it is.  A slot
     * that cannot be locked might be it: then nothing is proven. */
    for (i = 0; i < probes; i++) {
        fx_rt_slot *s = &t->slots[(first + i) % t->nslots];
        if (!fx_rt_lock(s, now, FX_RT_TRIES)) {
            return FX_RT_UNTRACKED;
        }
        if (s->in_use && s->key_hash == h && s->key_len == klen
            && !memcmp(s->key, key, klen)) {
            if (now >= s->window_start && now < s->window_end) {
                return fx_rt_repeat(s, full_id, count);
            }
            if (s->repeats) {
                fx_rt_closed_of(s, closed);
                *has_closed = 1;
            }
            fx_rt_open(s, key, klen, h, now, window, request_id, label);
            fx_rt_unlock(s);
            return FX_RT_FIRST;
        }
        fx_rt_unlock(s);
    }
    /* A new cause: the first free slot, or one whose window closed. */
    for (i = 0; i < probes; i++) {
        fx_rt_slot *s = &t->slots[(first + i) % t->nslots];
        if (!fx_rt_lock(s, now, FX_RT_TRIES)) {
            return FX_RT_UNTRACKED;
        }
        if (s->in_use && s->key_hash == h && s->key_len == klen
            && !memcmp(s->key, key, klen)
            && now >= s->window_start && now < s->window_end) {
            /* another child opened this cause since the loop above */
            return fx_rt_repeat(s, full_id, count);
        }
        if (!s->in_use || now >= s->window_end || now < s->window_start) {
            if (s->in_use && s->repeats) {
                fx_rt_closed_of(s, closed);
                *has_closed = 1;
            }
            fx_rt_open(s, key, klen, h, now, window, request_id, label);
            fx_rt_unlock(s);
            return FX_RT_FIRST;
        }
        fx_rt_unlock(s);
    }
    return FX_RT_UNTRACKED;
}

int fx_rt_sweep(fx_rt_table *t, apr_time_t now, fx_rt_closed *out, int max)
{
    unsigned i;
    int n = 0;
    for (i = 0; t && i < t->nslots && n < max; i++) {
        fx_rt_slot *s = &t->slots[i];
        if (!s->in_use || (now < s->window_end && now >= s->window_start)) {
            continue;           /* read without the lock: only a hint */
        }
        if (!fx_rt_lock(s, now, 1)) {
            continue;
        }
        if (s->in_use && (now >= s->window_end || now < s->window_start)) {
            if (s->repeats) {
                fx_rt_closed_of(s, &out[n++]);
            }
            s->in_use = 0;
            s->repeats = 0;
        }
        fx_rt_unlock(s);
    }
    return n;
}
