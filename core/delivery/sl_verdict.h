/* sl_verdict: what a connector's response_fn said about one answer of
 * the destination. Read from the Lua value it returned into a plain C
 * struct (every hostile shape refused with a reason, nothing raised), and
 * applied to the piece that was sent: the records it refused to the
 * batch's dead letters with their reasons, the records to send again
 * picked into a piece of their own, the rest counted as delivered. */
#ifndef SL_VERDICT_H
#define SL_VERDICT_H

#include <stddef.h>

#include <lua.h>

#include "sl_batch.h"
#include "sl_graves.h"
#include "sl_http_client.h"
#include "sl_stats.h"
#include "sl_status_lists.h"

typedef enum sl_verdict_outcome {
    SL_VERDICT_DEFAULT = 0,  /* nil, or a table without `outcome`: the
                                status's own class (status lists
                                included) */
    SL_VERDICT_SUCCESS,      /* delivered, but for the `failed` records */
    SL_VERDICT_RETRY,        /* the whole piece again after a backoff */
    SL_VERDICT_PERMANENT     /* the whole piece to the dead letters */
} sl_verdict_outcome;

/* One record response_fn listed in `failed`. */
typedef struct sl_verdict_item {
    size_t pos;              /* its place in the piece, from 0 (index - 1) */
    int retry;               /* send it again (retry = true) */
    char *reason;            /* owned; never NULL */
} sl_verdict_item;

/* A verdict. Owned by the caller, freed with sl_verdict_free. */
typedef struct sl_verdict {
    sl_verdict_outcome outcome;
    sl_verdict_item *failed; /* owned; by pos, ascending, each pos once */
    size_t nfailed;
    double retry_after_s;    /* >= 0, at most a day; < 0: not given */
    char *reason;            /* owned; NULL: not given */
} sl_verdict;

/* Longest reason kept (bytes; a longer one is cut). */
#define SL_VERDICT_REASON_MAX 1024

/* Read the verdict from response_fn's results, the nres values at the
 * top of co (a thread of the connector's state that is not running; the
 * first result counts, the others are ignored) about a piece of
 * `nrecords` records. Only raw accesses: no metamethod runs. The reading
 * runs protected, so it never raises. Returns 0 with *v filled (free it
 * with sl_verdict_free), or -1 with a one-line reason in err and *v empty
 * (nil, a table without `outcome`, is 0 and SL_VERDICT_DEFAULT). The
 * stack of co is left as it was. */
int sl_verdict_read(lua_State *co, int nres, size_t nrecords, sl_verdict *v,
                    char *err, size_t errlen);

/* Free what v owns and leave it empty. Accepts an empty verdict. */
void sl_verdict_free(sl_verdict *v);

/* What delivery does next with the piece after sl_verdict_apply. */
typedef enum sl_verdict_act {
    SL_VERDICT_ACT_DEFAULT = 0, /* what the status says, as without
                                   response_fn */
    SL_VERDICT_ACT_DONE,        /* the piece is done (its refused records
                                   are in the graves) */
    SL_VERDICT_ACT_RETRY,       /* the current piece again after a backoff;
                                   it may now be the records to retry,
                                   picked */
    SL_VERDICT_ACT_BURY,        /* the current piece to the dead letters,
                                   with `why` */
    SL_VERDICT_ACT_FAILED       /* out of memory: nothing was changed;
                                   retry the piece as after an error */
} sl_verdict_act;

/* The piece a verdict is about. Pointers borrowed for the call. */
typedef struct sl_verdict_ctx {
    sl_batch *recs;          /* its current piece is the one answered */
    sl_graves **graves;      /* the batch's dead pieces */
    const sl_graves_piece *grave; /* what each refused record's dead letter
                                 says besides its place and reason:
                                 status, attempts, times, response, url,
                                 key */
    sl_stats *stats;         /* delivered, dead_lettered, records_retried,
                                failures, response_fn_errors */
    const sl_status_lists *status; /* the connector's, for the status's
                                own class; may be NULL */
} sl_verdict_ctx;

/* What delivery does after response_fn: the act, and the answer to act
 * with (res's Retry-After replaced by retry_after_s when given; after
 * outcome "retry", its reason as the error; after a failure, status 0
 * and the reason as its error). Not to be copied: res points into it. */
typedef struct sl_verdict_next {
    sl_verdict_act act;      /* never FAILED: that is RETRY here */
    sl_http_client_response res;
    char why[640];           /* BURY's reason; a failure's error */
    char retry_after[32];
} sl_verdict_next;

/* The end of a response_fn call about answer res: its verdict v applied
 * (sl_verdict_apply), or, with err (v NULL) or when applying runs out of
 * memory, the failure counted (failures, response_fn_errors), logged with
 * the batch's key and turned into a RETRY. */
void sl_verdict_settle(const sl_verdict *v, const char *err,
                       const sl_http_client_response *res,
                       const sl_verdict_ctx *x, sl_verdict_next *out);

/* Apply v to x's current piece. SUCCESS (or DEFAULT of a delivered
 * status): each failed record without retry goes to *x->graves with the
 * reason "item <index> of batch <key>: <reason>", the records with retry
 * become the current piece (sl_batch_pick) and the result is RETRY, else
 * DONE; the others are counted delivered. RETRY: RETRY. PERMANENT: BURY
 * with why = v's reason or "response_fn: permanent" (never halved:
 * response_fn has spoken). DEFAULT of another status: DEFAULT (failed is
 * not used). retry_after gets v's retry_after_s as a Retry-After value
 * (whole seconds, rounded up), or "" when it gave none. Logs what it did
 * that delivery would not log. FAILED when out of memory; then nothing
 * changed. */
sl_verdict_act sl_verdict_apply(const sl_verdict *v, const sl_verdict_ctx *x,
                                char *why, size_t whylen, char *retry_after,
                                size_t ralen);

#endif
