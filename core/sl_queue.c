/* sl_queue: in-memory queue. Each appended block becomes one chunk (no copy
 * of the records); a chunk is freed when its last record is taken. */
#include "sl_queue.h"

#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    struct chunk *next;
    char *data;        /* framed records, owned */
    size_t len;        /* bytes of frames */
    size_t pos;        /* offset of the next frame to take */
    size_t nrecords;   /* records not yet taken */
    size_t rec_bytes;  /* record bytes not yet taken */
    uint64_t arrived_ms;
} chunk;

struct sl_queue {
    chunk *head, *tail;
    size_t count;     /* records */
    size_t bytes;     /* record bytes (frames' payloads) */
    size_t max_bytes;
};

sl_queue *sl_queue_new(size_t max_bytes)
{
    sl_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->max_bytes = max_bytes;
    return q;
}

static void chunk_free(chunk *c)
{
    free(c->data);
    free(c);
}

void sl_queue_free(sl_queue *q)
{
    if (!q)
        return;
    chunk *c = q->head;
    while (c) {
        chunk *next = c->next;
        chunk_free(c);
        c = next;
    }
    free(q);
}

int sl_queue_has_room(const sl_queue *q, size_t bytes)
{
    return bytes <= q->max_bytes && q->bytes <= q->max_bytes - bytes;
}

sl_queue_rc sl_queue_append(sl_queue *q, sl_buf *block, size_t nrecords,
                            uint64_t now_ms)
{
    if (nrecords == 0)
        return SL_QUEUE_OK;
    size_t rec_bytes = block->len - nrecords * sizeof(uint32_t);
    if (!sl_queue_has_room(q, rec_bytes))
        return SL_QUEUE_FULL;
    chunk *c = malloc(sizeof *c);
    if (!c)
        return SL_QUEUE_NOMEM;
    c->next = NULL;
    c->data = block->data;
    c->len = block->len;
    c->pos = 0;
    c->nrecords = nrecords;
    c->rec_bytes = rec_bytes;
    c->arrived_ms = now_ms;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->count += nrecords;
    q->bytes += rec_bytes;
    sl_buf_init(block, block->max);
    return SL_QUEUE_OK;
}

size_t sl_queue_count(const sl_queue *q) { return q->count; }
size_t sl_queue_bytes(const sl_queue *q) { return q->bytes; }

uint64_t sl_queue_oldest_ms(const sl_queue *q)
{
    return q->head ? q->head->arrived_ms : 0;
}

size_t sl_queue_take(sl_queue *q, size_t max_records, sl_queue_emit_fn emit,
                     void *ud)
{
    size_t taken = 0;
    while (q->head && taken < max_records) {
        chunk *c = q->head;
        uint32_t len;
        memcpy(&len, c->data + c->pos, sizeof len);
        const char *rec = c->data + c->pos + sizeof len;
        if (emit(ud, rec, len) != 0)
            break;
        c->pos += sizeof len + len;
        c->nrecords--;
        c->rec_bytes -= len;
        q->count--;
        q->bytes -= len;
        taken++;
        if (c->nrecords == 0) {
            q->head = c->next;
            if (!q->head)
                q->tail = NULL;
            chunk_free(c);
        }
    }
    return taken;
}

size_t sl_queue_frame_begin(sl_buf *block)
{
    uint32_t zero = 0;
    size_t off = block->len;
    if (sl_buf_append(block, &zero, sizeof zero) != 0)
        return (size_t)-1;
    return off;
}

void sl_queue_frame_end(sl_buf *block, size_t off)
{
    uint32_t len = (uint32_t)(block->len - off - sizeof len);
    memcpy(block->data + off, &len, sizeof len);
}

int sl_queue_frame(sl_buf *block, const char *rec, size_t len)
{
    size_t off = sl_queue_frame_begin(block);
    if (off == (size_t)-1)
        return -1;
    if (sl_buf_append(block, rec, len) != 0) {
        sl_buf_truncate(block, off);
        return -1;
    }
    sl_queue_frame_end(block, off);
    return 0;
}
