/* sl_luaalloc: the allocator under one Lua state, with its memory cap.
 * Blocks of up to SL_LUAALLOC_SMALL_MAX bytes are cut in size classes of
 * SL_LUAALLOC_CLASS bytes, and a freed one waits on its class's free list
 * for the next allocation of that class (at most SL_LUAALLOC_KEEP_BYTES
 * wait in all) instead of going back to malloc: a transform makes and
 * drops a few strings and a table for every record. Not thread-safe: one
 * per lua_State, used only by the thread that holds the state. */
#ifndef SL_LUAALLOC_H
#define SL_LUAALLOC_H

#include <stdbool.h>
#include <stddef.h>

#define SL_LUAALLOC_CLASS 16      /* bytes between two size classes */
#define SL_LUAALLOC_SMALL_MAX 512 /* larger blocks: malloc and free */
#define SL_LUAALLOC_KEEP_BYTES (32u * 1024) /* cached at most, all classes */

typedef struct sl_luaalloc sl_luaalloc;

/* A new allocator that lets the state hold at most limit bytes (0: no
 * cap), nothing cached, or NULL when out of memory. Free with
 * sl_luaalloc_free. */
sl_luaalloc *sl_luaalloc_new(size_t limit);

/* Gives back the cached blocks and a. Every block a handed out must have
 * been freed through it first (lua_close does). a may be NULL. */
void sl_luaalloc_free(sl_luaalloc *a);

/* A lua_Alloc, ud being the sl_luaalloc (Lua manual, 4.6): nsize 0 frees
 * ptr (may be NULL) and returns NULL; else returns a block of nsize bytes
 * holding the first min(osize, nsize) bytes of ptr (osize is a type tag
 * when ptr is NULL), or NULL, ptr then left as it was: when out of memory,
 * or when growing would take the state past its cap (sl_luaalloc_cap_hit
 * then tells; Lua collects garbage, tries again, then raises LUA_ERRMEM).
 * osize must be the size ptr was last given. */
void *sl_luaalloc_lua(void *ud, void *ptr, size_t osize, size_t nsize);

/* The cap (0: none). Lowered below what the state holds, nothing grows
 * until enough is freed. */
void sl_luaalloc_set_limit(sl_luaalloc *a, size_t bytes);
size_t sl_luaalloc_limit(const sl_luaalloc *a);

/* Bytes the state holds, as Lua asked for them. */
size_t sl_luaalloc_used(const sl_luaalloc *a);

/* Whether an allocation was refused for the cap since the last reset. */
bool sl_luaalloc_cap_hit(const sl_luaalloc *a);
void sl_luaalloc_reset_cap_hit(sl_luaalloc *a);

/* Bytes waiting on the free lists (at most SL_LUAALLOC_KEEP_BYTES). */
size_t sl_luaalloc_cached(const sl_luaalloc *a);

/* Gives every cached block back to malloc. */
void sl_luaalloc_trim(sl_luaalloc *a);

#endif
