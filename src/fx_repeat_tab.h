/* fx_repeat_tab.h — the pure logic of ForbiddenExplainRepeat (fx_repeat.c
 * owns the server side): the cause key of an entry, and the bounded table
 * of causes seen in their current window, laid out in a block of memory
 * the caller provides (shared memory in the server, a buffer in the unit
 * tests).  APR only.
 *
 * A cause is what the entry's own facts say decided the 403: the virtual
 * host, reason, module, phase, the rule (directive, file, line, section,
 * trail, responsible rules, conditions and their results), and the client
 * attribute that failed (the address class for address rules, the env
 * variable, the user, the path component with its mode for filesystem
 * causes, ...).  Per-request facts (uri, client_ip, request_id, the text of
 * detail and hint, what a RewriteCond tested) are not part of it: a repeat
 * line carries uri and client_ip itself.
 *
 * The table keeps the whole key of every cause and compares it byte for
 * byte: a repeat is a repeat only when the key is equal, never because two
 * hashes are.  A key too long for a slot, a table whose probed slots are
 * all taken by live causes, or a slot whose lock cannot be had quickly all
 * answer FX_RT_UNTRACKED: the entry is then written in full. */
#ifndef FX_REPEAT_TAB_H
#define FX_REPEAT_TAB_H

#include <apr_pools.h>
#include <apr_time.h>
#include "fx_entry.h"

#define FX_RT_KEY_MAX 2048      /* bytes of a cause key a slot holds */
#define FX_RT_ID_MAX 72         /* request_id of the window's full entry */
#define FX_RT_TEXT_MAX 200      /* reason, directive, file of the summary */
#define FX_RT_PROBES 8          /* slots tried per cause */

/* The cause key of e in virtual host vhost (a name the caller chooses);
 * NULL when it does not fit a slot. */
const char *fx_rt_key(apr_pool_t *p, const fx_entry *e, const char *vhost);

/* The class of a textual address: "loopback", "private", "link-local",
 * "shared" (100.64/10), "multicast", "unspecified", "public", each with
 * "v4-" or "v6-" in front; "unknown" for text that is no address. */
const char *fx_rt_address_class(const char *addr);

/* What a closed window held, for its summary line. */
typedef struct {
    char reason[FX_RT_TEXT_MAX];
    char directive[FX_RT_TEXT_MAX];
    char file[FX_RT_TEXT_MAX];
    int line;                   /* 0: none */
    char full_id[FX_RT_ID_MAX];
    apr_uint32_t repeats;
    apr_uint32_t server_index;
    apr_time_t window_start, window_end;
} fx_rt_closed;

/* Facts of a new cause kept for its summary. */
typedef struct {
    const char *reason, *directive, *file;
    int line;
    apr_uint32_t server_index;
} fx_rt_label;

typedef enum {
    FX_RT_FIRST = 0,            /* first of its window: write the entry in full */
    FX_RT_REPEAT = 1,           /* a repeat: write the short line */
    FX_RT_UNTRACKED = 2         /* cannot tell: write it in full */
} fx_rt_verdict;

typedef struct fx_rt_table fx_rt_table;

/* Bytes a table of nslots needs. */
apr_size_t fx_rt_size(unsigned nslots);
/* Lay out an empty table in mem (fx_rt_size(nslots) bytes, zeroed or not). */
fx_rt_table *fx_rt_init(void *mem, unsigned nslots);
/* The table already laid out in mem, or NULL when mem holds none of this
 * layout and size (a reused segment after an upgrade). */
fx_rt_table *fx_rt_attach(void *mem, unsigned nslots);

/* Note one 403 of cause key at now.  FIRST: the slot now holds the cause
 * with a window [now, now + window) whose full entry is request_id.
 * REPEAT: *full_id gets that entry's request_id and *count the running
 * number of repeats in the window (1 for the first repeat).  When the
 * cause's previous window had closed with repeats not yet summarised (or a
 * closed window of another cause had to give up its slot), *closed is
 * filled and *has_closed set: the caller writes that summary first. */
fx_rt_verdict fx_rt_note(fx_rt_table *t, const char *key, apr_time_t now,
                         apr_time_t window, const char *request_id,
                         const fx_rt_label *label, char *full_id,
                         apr_uint32_t *count, fx_rt_closed *closed,
                         int *has_closed);

/* Close every window that ended before now: up to max of those that held
 * repeats go to out (their slots freed once reported), the others are
 * freed silently.  Returns how many were put in out; call again while it
 * returns max.  Slots that are busy are left for the next call. */
int fx_rt_sweep(fx_rt_table *t, apr_time_t now, fx_rt_closed *out, int max);

#endif
