/* sl_rejectlog: rejected stream lines with their reason, bounded. */
#include "sl_rejectlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_time.h"

#define REJECTLOG_MAX (64u << 20)
#define TEXT_KEEP 512

struct sl_rejectlog {
    char path[PATH_MAX];
    int fd;
    uint64_t size;
    uint64_t count;
    sl_buf line;
    sl_buf text;  /* the line made valid UTF-8 */
};

static int open_log(sl_rejectlog *r)
{
    r->fd = open(r->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (r->fd < 0)
        return -1;
    struct stat st;
    r->size = fstat(r->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

sl_rejectlog *sl_rejectlog_open(const char *dir, char *err, size_t errlen)
{
    sl_rejectlog *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sl_buf_init(&r->line, 0);
    sl_buf_init(&r->text, 0);
    if (snprintf(r->path, sizeof r->path, "%s/rejects.ndjson", dir) >=
            (int)sizeof r->path ||
        open_log(r) != 0) {
        snprintf(err, errlen, "cannot open %s/rejects.ndjson: %s", dir,
                 strerror(errno));
        free(r);
        return NULL;
    }
    return r;
}

void sl_rejectlog_close(sl_rejectlog *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    sl_buf_free(&r->line);
    sl_buf_free(&r->text);
    free(r);
}

/* The first TEXT_KEEP bytes of a line as valid UTF-8: each ill-formed
 * part becomes U+FFFD (sl_json_utf8_len), so the log stays JSON
 * whatever a client sent. */
static void sanitize(sl_buf *out, const char *s, size_t n)
{
    if (n > TEXT_KEEP)
        n = TEXT_KEEP;
    sl_buf_reset(out);
    for (size_t i = 0; i < n;) {
        size_t bad = 0, k = sl_json_utf8_len((const unsigned char *)s + i,
                                            n - i, &bad);
        if (k) {
            sl_buf_append(out, s + i, k);
            i += k;
        } else {
            sl_buf_append(out, "\xef\xbf\xbd", 3);
            i += bad ? bad : 1;
        }
    }
}

static void rotate(sl_rejectlog *r)
{
    char old[PATH_MAX + 4];
    snprintf(old, sizeof old, "%s.1", r->path);
    close(r->fd);
    if (rename(r->path, old) != 0)
        sl_log_warn("rejects", "cannot rotate %s: %s", r->path, strerror(errno));
    if (open_log(r) != 0)
        sl_log_error("rejects", "cannot reopen %s: %s", r->path, strerror(errno));
}

void sl_rejectlog_add(sl_rejectlog *r, const char *peer, uint64_t line,
                      const char *text, size_t textlen, const char *rejection,
                      size_t rlen)
{
    if (r->fd < 0)
        return;
    char ts[SL_TIME_FORMAT_MAX];
    sl_time_format_rfc3339(sl_time_wall_ms(), ts, sizeof ts);
    sl_buf *b = &r->line;
    sl_buf_reset(b);
    sl_buf_printf(b, "{\"time\":\"%s\",\"peer\":", ts);
    sl_buf_json_string(b, peer, strlen(peer));
    sl_buf_printf(b, ",\"line\":%llu,\"text\":", (unsigned long long)line);
    sanitize(&r->text, text, textlen);
    sl_buf_json_string(b, r->text.data ? r->text.data : "", r->text.len);
    sl_buf_putc(b, ',');
    sl_buf_append(b, rejection, rlen);
    sl_buf_putc(b, '\n');
    if (r->size + b->len > REJECTLOG_MAX)
        rotate(r);
    if (r->fd < 0)
        return;
    ssize_t w = write(r->fd, b->data, b->len);
    if (w != (ssize_t)b->len) {
        sl_log_warn("rejects", "cannot write %s: %s", r->path,
                w < 0 ? strerror(errno) : "short write");
        return;
    }
    r->size += b->len;
    r->count++;
}

uint64_t sl_rejectlog_count(const sl_rejectlog *r) { return r->count; }

size_t sl_rejectlog_add_listed(sl_rejectlog *rl, const char *rej, size_t rejlen,
                               const char *data, size_t len, const char *peer,
                               uint64_t first_line,
                               sl_rejectlog_each_fn on_reject, void *ud,
                               size_t max)
{
    static const char key[] = "{\"index\":";
    const char *r = rej, *rend = r ? r + rejlen : NULL;
    const char *p = data, *end = data + len;
    uint64_t lineno = first_line, ordinal = 0;
    size_t logged = 0;
    while (p < end && r && r < rend && logged < max) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le) { /* a non-blank line: sl_ingest's index counts these */
            while (r && r < rend && logged < max &&
                   strncmp(r, key, sizeof key - 1) == 0) {
                char *after;
                unsigned long long idx = strtoull(r + sizeof key - 1, &after, 10);
                if (idx != ordinal || *after != ',')
                    break;
                /* this entry runs to the next `,{"index":` or the end */
                const char *next = after;
                while ((next = memchr(next, ',', (size_t)(rend - next))) &&
                       strncmp(next + 1, key, sizeof key - 1) != 0)
                    next++;
                const char *eend = next ? next : rend;
                sl_rejectlog_add(rl, peer, lineno, p,
                                 (size_t)(le - p), after + 1,
                                 (size_t)(eend - (after + 1)));
                if (on_reject)
                    on_reject(ud, lineno, after + 1, (size_t)(eend - (after + 1)));
                logged++;
                r = next ? next + 1 : rend;
            }
            ordinal++;
        }
        if (nl)
            lineno++;
        p = nl ? nl + 1 : end;
    }
    return logged;
}
