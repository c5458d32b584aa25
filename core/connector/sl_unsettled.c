/* sl_unsettled: appends waiting for the spool's verdict (a ring). */
#include "sl_unsettled.h"

#include <stdlib.h>

typedef struct entry {
    uint64_t ticket;
    uint64_t records;
} entry;

struct sl_unsettled {
    entry *ring;
    size_t cap;   /* a power of two, or 0 */
    size_t head;  /* index of the oldest */
    size_t n;
    uint64_t records;
};

sl_unsettled *sl_unsettled_new(void)
{
    return calloc(1, sizeof(sl_unsettled));
}

void sl_unsettled_free(sl_unsettled *u)
{
    if (!u)
        return;
    free(u->ring);
    free(u);
}

static int grow(sl_unsettled *u)
{
    size_t cap = u->cap ? u->cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof(entry))
        return -1;
    entry *r = malloc(cap * sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < u->n; i++)
        r[i] = u->ring[(u->head + i) & (u->cap - 1)];
    free(u->ring);
    u->ring = r;
    u->cap = cap;
    u->head = 0;
    return 0;
}

int sl_unsettled_push(sl_unsettled *u, uint64_t ticket, uint64_t records)
{
    if (u->n == u->cap && grow(u) != 0)
        return -1;
    u->ring[(u->head + u->n) & (u->cap - 1)] =
        (entry){.ticket = ticket, .records = records};
    u->n++;
    u->records += records;
    return 0;
}

uint64_t sl_unsettled_durable(sl_unsettled *u, uint64_t lsn)
{
    uint64_t sum = 0;
    while (u->n > 0 && u->ring[u->head].ticket <= lsn) {
        sum += u->ring[u->head].records;
        u->head = (u->head + 1) & (u->cap - 1);
        u->n--;
    }
    u->records -= sum;
    return sum;
}

uint64_t sl_unsettled_failed(sl_unsettled *u, uint64_t lsn)
{
    uint64_t sum = 0;
    while (u->n > 0) {
        const entry *e = &u->ring[(u->head + u->n - 1) & (u->cap - 1)];
        if (e->ticket <= lsn)
            break;
        sum += e->records;
        u->n--;
    }
    u->records -= sum;
    return sum;
}

uint64_t sl_unsettled_records(const sl_unsettled *u) { return u->records; }
