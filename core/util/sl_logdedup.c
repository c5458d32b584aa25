/* sl_logdedup: the table of recent log keys and their counted repeats
 * (see sl_logdedup.h for the rule). */
#include "sl_logdedup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMP_MAX 64

typedef struct entry {
    int used;
    int level;
    int64_t since_ms;              /* the window's start: its first line */
    uint64_t repeats;              /* lines counted since the first */
    char component[COMP_MAX];
    char key[SL_LOGDEDUP_MAX_MSG]; /* the masked message */
    size_t key_len;
    char last[SL_LOGDEDUP_MAX_MSG]; /* the last repeat, as written */
    size_t last_len;
} entry;

struct sl_logdedup {
    entry *e;
    size_t cap;
    int64_t window_ms;
};

_Static_assert(sizeof(entry) <= SL_LOGDEDUP_ENTRY_BYTES,
               "SL_LOGDEDUP_ENTRY_BYTES too small");
_Static_assert(sizeof(struct sl_logdedup) <= SL_LOGDEDUP_HEAD_BYTES,
               "SL_LOGDEDUP_HEAD_BYTES too small");

sl_logdedup *sl_logdedup_place(void *mem, size_t len, size_t capacity,
                               int64_t window_ms)
{
    if (!mem || capacity == 0 || window_ms <= 0 ||
        len < SL_LOGDEDUP_HEAD_BYTES ||
        capacity > (len - SL_LOGDEDUP_HEAD_BYTES) / SL_LOGDEDUP_ENTRY_BYTES)
        return NULL;
    memset(mem, 0, SL_LOGDEDUP_BYTES(capacity));
    sl_logdedup *d = mem;
    d->e = (entry *)((char *)mem + SL_LOGDEDUP_HEAD_BYTES);
    d->cap = capacity;
    d->window_ms = window_ms;
    return d;
}

sl_logdedup *sl_logdedup_new(size_t capacity, int64_t window_ms)
{
    if (capacity == 0 || window_ms <= 0)
        return NULL;
    sl_logdedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->e = calloc(capacity, sizeof *d->e);
    if (!d->e) {
        free(d);
        return NULL;
    }
    d->cap = capacity;
    d->window_ms = window_ms;
    return d;
}

void sl_logdedup_free(sl_logdedup *d)
{
    if (!d)
        return;
    free(d->e);
    free(d);
}

static int word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* A status code: 3 digits after "HTTP ". */
static int is_status(const char *msg, size_t start, size_t n)
{
    if (n != 3 || start < 5 || memcmp(msg + start - 5, "HTTP ", 5) != 0)
        return 0;
    for (size_t i = 0; i < 3; i++)
        if (msg[start + i] < '0' || msg[start + i] > '9')
            return 0;
    return 1;
}

size_t sl_logdedup_mask(const char *msg, size_t len, char *out,
                        size_t outlen)
{
    size_t o = 0, i = 0;
#define PUT(c) do { if (o + 1 < outlen) out[o] = (c); o++; } while (0)
    while (i < len) {
        if (!word_char(msg[i])) {
            PUT(msg[i]);
            i++;
            continue;
        }
        size_t start = i;
        int digit = 0;
        while (i < len && word_char(msg[i])) {
            digit |= msg[i] >= '0' && msg[i] <= '9';
            i++;
        }
        if (digit && !is_status(msg, start, i - start)) {
            PUT('#');
        } else {
            for (size_t k = start; k < i; k++)
                PUT(msg[k]);
        }
    }
#undef PUT
    if (outlen)
        out[o < outlen ? o : outlen - 1] = '\0';
    return o;
}

/* "<last> (repeated N times in the last S s)" for an entry with
 * repeats, then the entry is forgotten. */
static void summarise(entry *e, int64_t now_ms, sl_logdedup_emit_fn emit,
                      void *ud)
{
    if (e->used && e->repeats > 0) {
        char line[SL_LOGDEDUP_MAX_MSG + 96];
        int64_t s = (now_ms - e->since_ms + 999) / 1000;
        int n = snprintf(line, sizeof line, "%.*s (repeated %llu time%s in "
                         "the last %lld s)", (int)e->last_len, e->last,
                         (unsigned long long)e->repeats,
                         e->repeats == 1 ? "" : "s",
                         (long long)(s > 0 ? s : 1));
        if (n > 0)
            emit(ud, e->level, e->component, line,
                 (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    e->used = 0;
}

static entry *find(sl_logdedup *d, int level, const char *component,
                   const char *key, size_t key_len)
{
    for (size_t i = 0; i < d->cap; i++) {
        entry *e = &d->e[i];
        if (e->used && e->level == level && e->key_len == key_len &&
            strcmp(e->component, component) == 0 &&
            memcmp(e->key, key, key_len) == 0)
            return e;
    }
    return NULL;
}

/* A free entry, or the one whose window is the oldest, summarised. */
static entry *take(sl_logdedup *d, int64_t now_ms, sl_logdedup_emit_fn emit,
                   void *ud)
{
    entry *oldest = NULL;
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->e[i].used)
            return &d->e[i];
        if (!oldest || d->e[i].since_ms < oldest->since_ms)
            oldest = &d->e[i];
    }
    summarise(oldest, now_ms, emit, ud);
    return oldest;
}

void sl_logdedup_expire(sl_logdedup *d, int64_t now_ms,
                        sl_logdedup_emit_fn emit, void *ud)
{
    for (size_t i = 0; d && i < d->cap; i++)
        if (d->e[i].used && now_ms - d->e[i].since_ms >= d->window_ms)
            summarise(&d->e[i], now_ms, emit, ud);
}

int sl_logdedup_offer(sl_logdedup *d, int64_t now_ms, int level,
                      const char *component, const char *msg, size_t len,
                      sl_logdedup_emit_fn emit, void *ud)
{
    sl_logdedup_expire(d, now_ms, emit, ud);
    char key[SL_LOGDEDUP_MAX_MSG];
    size_t key_len = sl_logdedup_mask(msg, len, key, sizeof key);
    if (key_len >= sizeof key || len >= SL_LOGDEDUP_MAX_MSG ||
        strlen(component) >= COMP_MAX) {
        emit(ud, level, component, msg, len);
        return 1;
    }
    entry *e = find(d, level, component, key, key_len);
    if (e) {
        e->repeats++;
        memcpy(e->last, msg, len);
        e->last_len = len;
        return 0;
    }
    e = take(d, now_ms, emit, ud);
    e->used = 1;
    e->level = level;
    e->since_ms = now_ms;
    e->repeats = 0;
    snprintf(e->component, sizeof e->component, "%s", component);
    memcpy(e->key, key, key_len);
    e->key_len = key_len;
    e->last_len = 0;
    emit(ud, level, component, msg, len);
    return 1;
}

void sl_logdedup_flush(sl_logdedup *d, int64_t now_ms,
                       sl_logdedup_emit_fn emit, void *ud)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->cap; i++)
        summarise(&d->e[i], now_ms, emit, ud);
}
