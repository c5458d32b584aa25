/* sl_dlq_line: a dead letter as a line of dead.ndjson: the encoding
 * (valid UTF-8 JSON, capped members), the lenient parse and the capped
 * line reader. */
#include "sl_dlq_line.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_err.h"
#include "sl_json.h"
#include "sl_time.h"

#define REASON_MAX 4096
#define BATCH_ID_MAX 256
#define READ_CHUNK 65536

/* How many of the first `max` bytes of s (n bytes) to keep so that a
 * character cut by the limit is dropped rather than turned into U+FFFD. */
static size_t cut_utf8(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && max - k < 3 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    size_t bad;
    if (k < max &&
        sl_json_utf8_len((const unsigned char *)s + k, n - k, &bad) > max - k)
        return k;
    return max;
}

/* Append s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static int put_text(sl_buf *b, const char *s, size_t n)
{
    sl_buf clean;
    sl_buf_init(&clean, 3 * n + 16);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t bad = 0;
        size_t k = sl_json_utf8_len((const unsigned char *)s + i, n - i, &bad);
        if (k) {
            rc = sl_buf_append(&clean, s + i, k);
            i += k;
        } else {
            rc = sl_buf_append(&clean, "\xEF\xBF\xBD", 3);
            i += bad;
        }
    }
    if (rc == 0)
        rc = sl_buf_json_string(b, clean.len ? clean.data : "", clean.len);
    sl_buf_free(&clean);
    return rc;
}

/* ---- reading lines --------------------------------------------------- */

void sl_dlq_line_reader_init(sl_dlq_line_reader *r, int fd)
{
    r->fd = fd;
    sl_buf_init(&r->b, SL_DLQ_LINE_MAX + READ_CHUNK);
    r->pos = 0;
    r->eof = 0;
    r->toolong = 0;
}

int sl_dlq_line_reader_next(sl_dlq_line_reader *r, const char **p,
                            size_t *n)
{
    int skipping = 0;
    size_t from = 0; /* bytes of the pending line already searched */
    for (;;) {
        char *start = r->b.data ? r->b.data + r->pos : NULL;
        size_t avail = r->b.len - r->pos;
        char *nl = avail > from ? memchr(start + from, '\n', avail - from)
                                : NULL;
        if (nl) {
            r->pos += (size_t)(nl - start) + 1;
            if (!skipping) {
                *p = start;
                *n = (size_t)(nl - start);
                return 1;
            }
            skipping = 0;
            from = 0;
            r->toolong++;
            continue;
        }
        if (r->eof) {
            *p = start ? start : "";
            *n = skipping ? 0 : avail;
            r->toolong += skipping;
            return 0;
        }
        from = avail;
        if (r->pos) {
            memmove(r->b.data, start, avail);
            r->b.len = avail;
            r->pos = 0;
        }
        if (skipping || r->b.len >= SL_DLQ_LINE_MAX) {
            skipping = 1;
            r->b.len = 0;
            from = 0;
        }
        if (sl_buf_reserve(&r->b, READ_CHUNK) != 0) {
            errno = ENOMEM;
            return -1;
        }
        ssize_t k = read(r->fd, r->b.data + r->b.len, READ_CHUNK);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0)
            r->eof = 1;
        r->b.len += (size_t)k;
    }
}

void sl_dlq_line_reader_free(sl_dlq_line_reader *r) { sl_buf_free(&r->b); }

/* ---- reading an entry ------------------------------------------------ */

static int is_key(const sl_json_token *t, const char *k)
{
    size_t n = strlen(k);
    return !(t->flags & SL_JSON_F_ESCAPED) && t->len == n &&
           memcmp(t->p, k, n) == 0;
}

static long num_long(const sl_json_token *v)
{
    int64_t x = 0;
    if (v->type != SL_JSON_NUMBER || !(v->flags & SL_JSON_F_INT) ||
        sl_json_parse_int64(v->p, v->len, &x) != 0 || x < 0 || x > 1000000000)
        return 0;
    return (long)x;
}

int sl_dlq_line_parse(const char *p, size_t n, sl_dlq_stored *e)
{
    memset(e, 0, sizeof *e);
    e->id = -1;
    e->time_ms = -1;
    sl_json s;
    sl_json_token k, v;
    sl_json_init(&s, p, n, 0);
    if (sl_json_next(&s, &k) != SL_JSON_OBJECT_BEGIN)
        return -1;
    for (;;) {
        sl_json_type kt = sl_json_next(&s, &k);
        if (kt == SL_JSON_OBJECT_END)
            break;
        if (kt != SL_JSON_KEY || sl_json_next(&s, &v) == SL_JSON_ERROR)
            return -1;
        const char *vstart = v.p;
        if (sl_json_skip(&s, &v) != 0)
            return -1;
        sl_dlq_text str = {v.type == SL_JSON_STRING ? v.p : NULL, v.len};
        if (is_key(&k, "id")) {
            if (v.type != SL_JSON_NUMBER || !(v.flags & SL_JSON_F_INT) ||
                sl_json_parse_int64(v.p, v.len, &e->id) != 0)
                return -1;
        } else if (is_key(&k, "record")) {
            if (v.type != SL_JSON_OBJECT_BEGIN)
                return -1;
            e->record = vstart;
            e->record_len = (size_t)(s.cur - vstart);
        } else if (is_key(&k, "time")) {
            e->time = str;
        } else if (is_key(&k, "reason")) {
            e->reason = str;
        } else if (is_key(&k, "response")) {
            e->response = str;
        } else if (is_key(&k, "batch_id")) {
            e->batch_id = str;
        } else if (is_key(&k, "url")) {
            e->url = str;
        } else if (is_key(&k, "first_attempt")) {
            e->first_attempt = str;
        } else if (is_key(&k, "last_attempt")) {
            e->last_attempt = str;
        } else if (is_key(&k, "status")) {
            e->status = num_long(&v);
        } else if (is_key(&k, "attempts")) {
            e->attempts = num_long(&v);
        }
    }
    if (sl_json_next(&s, &k) != SL_JSON_END || e->id < 0 || !e->record)
        return -1;
    if (e->time.p)
        sl_time_parse_rfc3339(e->time.p, e->time.len, SL_TIME_LOOSE,
                              &e->time_ms);
    return 0;
}

/* ---- writing --------------------------------------------------------- */

/* A record must be one compact JSON object: a raw newline would split the
 * line and anything else that is not JSON would make it unreadable. */
int sl_dlq_line_check(const sl_dlq_entry *e, size_t i, char *err,
                      size_t errlen)
{
    if (!e->record || e->record_len == 0) {
        sl_err_set(err, errlen, "dead letter %zu: empty record", i);
        return -1;
    }
    if (e->record_len > SL_DLQ_LINE_MAX - 16384) {
        sl_err_set(err, errlen, "dead letter %zu: record of %zu bytes is too "
                "long", i, e->record_len);
        return -1;
    }
    if (memchr(e->record, '\n', e->record_len)) {
        sl_err_set(err, errlen, "dead letter %zu: record contains a raw "
                "newline", i);
        return -1;
    }
    sl_json s;
    sl_json_token t;
    sl_json_init(&s, e->record, e->record_len, 0);
    if (sl_json_next(&s, &t) != SL_JSON_OBJECT_BEGIN ||
        sl_json_skip(&s, &t) != 0 || sl_json_next(&s, &t) != SL_JSON_END) {
        sl_err_set(err, errlen, "dead letter %zu: record is not a JSON object"
                "%s%s", i, s.err ? ": " : "", s.err ? s.err : "");
        return -1;
    }
    return 0;
}

static int put_time_or_null(sl_buf *b, int64_t ms)
{
    char t[SL_TIME_FORMAT_MAX];
    if (ms <= 0)
        return sl_buf_append(b, "null", 4);
    sl_time_format_rfc3339(ms, t, sizeof t);
    return sl_buf_printf(b, "\"%s\"", t);
}

int sl_dlq_line_encode(sl_buf *b, int64_t id, const char *now,
                       const sl_dlq_entry *e)
{
    const char *reason = e->reason ? e->reason : "";
    size_t rlen = strlen(reason);
    size_t blen = e->batch_id ? strlen(e->batch_id) : 0;
    size_t resp = e->response ? e->response_len : 0;
    int bad = sl_buf_printf(b, "{\"id\":%" PRId64 ",\"time\":\"%s\","
                            "\"status\":%ld,\"reason\":", id, now, e->status);
    bad = bad || put_text(b, reason, cut_utf8(reason, rlen, REASON_MAX));
    bad = bad || sl_buf_printf(b, ",\"attempts\":%u,\"first_attempt\":",
                               e->attempts);
    bad = bad || put_time_or_null(b, e->first_attempt_ms);
    bad = bad || sl_buf_append(b, ",\"last_attempt\":", 16);
    bad = bad || put_time_or_null(b, e->last_attempt_ms);
    bad = bad || sl_buf_append(b, ",\"batch_id\":", 12);
    if (e->batch_id)
        bad = bad || put_text(b, e->batch_id,
                              cut_utf8(e->batch_id, blen, BATCH_ID_MAX));
    else
        bad = bad || sl_buf_append(b, "null", 4);
    if (e->url) {
        bad = bad || sl_buf_append(b, ",\"url\":", 7);
        bad = bad || put_text(b, e->url, cut_utf8(e->url, strlen(e->url),
                                                  SL_DLQ_ENTRY_URL_MAX));
    }
    bad = bad || sl_buf_append(b, ",\"response\":", 12);
    bad = bad || put_text(b, resp ? e->response : "",
                          cut_utf8(e->response, resp, SL_DLQ_ENTRY_RESPONSE_MAX));
    bad = bad || sl_buf_append(b, ",\"record\":", 10);
    bad = bad || sl_buf_append(b, e->record, e->record_len);
    bad = bad || sl_buf_append(b, "}\n", 2);
    return bad ? -1 : 0;
}
