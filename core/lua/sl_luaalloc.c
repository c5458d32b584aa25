/* sl_luaalloc: size-class free lists and the cap for one Lua state (see
 * the header). Every block, cached or not, is a block of malloc's at least
 * as large as its class: one given back with a size of another class, or
 * past the cache's bound, goes to realloc or free as it is. */
#include "sl_luaalloc.h"

#include <stdlib.h>
#include <string.h>

#define NCLASSES (SL_LUAALLOC_SMALL_MAX / SL_LUAALLOC_CLASS)

typedef struct free_block {
    struct free_block *next;
} free_block;

struct sl_luaalloc {
    free_block *list[NCLASSES]; /* class c holds (c + 1) * CLASS bytes */
    size_t cached;              /* bytes on all the lists */
    size_t used;                /* bytes the state holds */
    size_t limit;               /* cap; 0 means none */
    bool cap_hit;               /* a growth was refused for the cap */
};

/* The class of a small size n (1 <= n <= SMALL_MAX), and its bytes. */
static inline size_t class_of(size_t n)
{
    return (n - 1) / SL_LUAALLOC_CLASS;
}

static inline size_t class_bytes(size_t c)
{
    return (c + 1) * SL_LUAALLOC_CLASS;
}

sl_luaalloc *sl_luaalloc_new(size_t limit)
{
    sl_luaalloc *a = calloc(1, sizeof *a);
    if (a)
        a->limit = limit;
    return a;
}

void sl_luaalloc_trim(sl_luaalloc *a)
{
    for (size_t c = 0; c < NCLASSES; c++) {
        while (a->list[c]) {
            free_block *b = a->list[c];
            a->list[c] = b->next;
            free(b);
        }
    }
    a->cached = 0;
}

void sl_luaalloc_free(sl_luaalloc *a)
{
    if (!a)
        return;
    sl_luaalloc_trim(a);
    free(a);
}

void sl_luaalloc_set_limit(sl_luaalloc *a, size_t bytes)
{
    a->limit = bytes;
}

size_t sl_luaalloc_limit(const sl_luaalloc *a)
{
    return a->limit;
}

size_t sl_luaalloc_used(const sl_luaalloc *a)
{
    return a->used;
}

bool sl_luaalloc_cap_hit(const sl_luaalloc *a)
{
    return a->cap_hit;
}

void sl_luaalloc_reset_cap_hit(sl_luaalloc *a)
{
    a->cap_hit = false;
}

size_t sl_luaalloc_cached(const sl_luaalloc *a)
{
    return a->cached;
}

/* malloc, once more after giving the cache back when it fails. */
static __attribute__((noinline)) void *fresh(sl_luaalloc *a, size_t n)
{
    void *p = malloc(n);
    if (!p && a->cached) {
        sl_luaalloc_trim(a);
        p = malloc(n);
    }
    return p;
}

/* A block for n bytes (n >= 1): from its class's list when one waits. */
static inline void *take(sl_luaalloc *a, size_t n)
{
    if (n > SL_LUAALLOC_SMALL_MAX)
        return fresh(a, n);
    size_t c = class_of(n);
    free_block *b = a->list[c];
    if (!b)
        return fresh(a, class_bytes(c));
    a->list[c] = b->next;
    a->cached -= class_bytes(c);
    return b;
}

/* Block p, last given n bytes (n >= 1), cached or freed. */
static inline void give(sl_luaalloc *a, void *p, size_t n)
{
    size_t c = class_of(n);
    if (n > SL_LUAALLOC_SMALL_MAX ||
        a->cached + class_bytes(c) > SL_LUAALLOC_KEEP_BYTES) {
        free(p);
        return;
    }
    free_block *b = p;
    b->next = a->list[c];
    a->list[c] = b;
    a->cached += class_bytes(c);
}

/* ptr (old >= 1 bytes) resized to nsize >= 1 bytes, NULL (ptr kept) when
 * out of memory. */
static __attribute__((noinline)) void *resize(sl_luaalloc *a, void *ptr,
                                              size_t old, size_t nsize)
{
    bool small_old = old <= SL_LUAALLOC_SMALL_MAX;
    bool small_new = nsize <= SL_LUAALLOC_SMALL_MAX;
    if (small_old && small_new) {
        if (class_of(old) == class_of(nsize))
            return ptr; /* the block already holds nsize */
        void *p = take(a, nsize);
        if (!p) /* shrinking: ptr still holds nsize, and its class */
            return nsize < old ? ptr : NULL;
        memcpy(p, ptr, old < nsize ? old : nsize);
        give(a, ptr, old);
        return p;
    }
    /* a large block on either side: malloc's realloc, a small result
     * rounded up to its class so that it may be cached when freed */
    void *p = realloc(ptr, small_new ? class_bytes(class_of(nsize)) : nsize);
    if (!p && small_new)
        return ptr; /* shrinking in place: ptr is large enough */
    return p;
}

void *sl_luaalloc_lua(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sl_luaalloc *a = ud;
    size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
    if (nsize == 0) {
        if (ptr)
            give(a, ptr, old);
        a->used -= old;
        return NULL;
    }
    /* used can exceed a limit lowered after the fact: nothing grows then */
    if (a->limit && nsize > old &&
        (a->used > a->limit || nsize - old > a->limit - a->used)) {
        a->cap_hit = true;
        return NULL; /* Lua collects garbage and retries, then raises */
    }
    void *p = ptr ? resize(a, ptr, old, nsize) : take(a, nsize);
    if (p)
        a->used = a->used - old + nsize;
    return p;
}
