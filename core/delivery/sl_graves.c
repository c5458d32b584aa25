/* sl_graves: a growing array of dead pieces, each owning copies of its
 * strings, turned into sl_dlq_entry rows (borrowing them) when written. */
#include "sl_graves.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_attempt_log.h"
#include "sl_batch.h"
#include "sl_dlq.h"

typedef struct grave {
    sl_graves_piece p;           /* its strings owned by the grave; key
                                    NULL: see key */
    char key[160];
} grave;

struct sl_graves {
    grave *v;
    size_t n, cap;
    size_t records;
};

static void grave_clear(grave *x)
{
    free((char *)x->p.reason);
    free((char *)x->p.response);
    free((char *)x->p.url);
}

/* x's copy of p; 0, or -1 out of memory (x then owns nothing). */
static int grave_set(grave *x, const sl_graves_piece *p)
{
    memset(x, 0, sizeof *x);
    x->p = *p;
    x->p.reason = NULL;
    x->p.response = NULL;
    x->p.url = NULL;
    size_t rl = p->response_len < SL_DLQ_ENTRY_RESPONSE_MAX
                    ? p->response_len : SL_DLQ_ENTRY_RESPONSE_MAX;
    char *reason = strdup(p->reason ? p->reason : "");
    char *resp = rl && p->response ? malloc(rl) : NULL;
    char *url = p->url ? strdup(p->url) : NULL;
    if (!reason || (rl && p->response && !resp) || (p->url && !url)) {
        free(reason);
        free(resp);
        free(url);
        return -1;
    }
    if (resp) {
        memcpy(resp, p->response, rl);
        sl_attempt_log_mask(p->sent, p->response, p->response_len, resp, rl);
    }
    x->p.sent = NULL; /* borrowed for this call only */
    x->p.reason = reason;
    x->p.response = resp;
    x->p.response_len = resp ? rl : 0;
    x->p.url = url;
    snprintf(x->key, sizeof x->key, "%s", p->key ? p->key : "");
    x->p.key = NULL; /* x->key: the array moves as it grows */
    return 0;
}

int sl_graves_add(sl_graves **gp, const sl_graves_piece *p)
{
    sl_graves *g = *gp;
    int made = 0;
    if (!g) {
        if (!(g = calloc(1, sizeof *g)))
            return -1;
        made = 1;
    }
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 4;
        grave *nv = realloc(g->v, nc * sizeof *nv);
        if (!nv)
            goto oom;
        g->v = nv;
        g->cap = nc;
    }
    if (grave_set(&g->v[g->n], p) != 0)
        goto oom;
    g->n++;
    g->records += p->n;
    *gp = g;
    return 0;
oom:
    if (made)
        sl_graves_free(g);
    return -1;
}

size_t sl_graves_records(const sl_graves *g) { return g ? g->records : 0; }
size_t sl_graves_pieces(const sl_graves *g) { return g ? g->n : 0; }

void sl_graves_drop_after(sl_graves *g, size_t pieces)
{
    while (g && g->n > pieces) {
        g->n--;
        g->records -= g->v[g->n].p.n;
        grave_clear(&g->v[g->n]);
    }
}

int sl_graves_write(const sl_graves *g, const sl_batch *recs, sl_dlq *dlq,
                    char *err, size_t errlen)
{
    if (!g || g->records == 0 || !dlq)
        return 0;
    sl_dlq_entry *e = calloc(g->records, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        const sl_graves_piece *x = &g->v[i].p;
        sl_batch_piece piece = {x->from, x->n, x->picked};
        for (size_t j = 0; j < x->n; j++, k++) {
            size_t r = sl_batch_piece_record(recs, piece, j);
            e[k].record = sl_batch_record(recs, r, &e[k].record_len);
            e[k].status = x->status;
            e[k].reason = x->reason;
            e[k].response = x->response;
            e[k].response_len = x->response_len;
            e[k].attempts = x->attempts;
            e[k].first_attempt_ms = x->first_ms;
            e[k].last_attempt_ms = x->last_ms;
            e[k].batch_id = g->v[i].key;
            e[k].url = x->url;
        }
    }
    int rc = sl_dlq_append(dlq, e, g->records, err, errlen);
    free(e);
    return rc;
}

void sl_graves_free(sl_graves *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        grave_clear(&g->v[i]);
    free(g->v);
    free(g);
}
