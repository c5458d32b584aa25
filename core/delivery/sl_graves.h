/* sl_graves: the dead-lettered pieces of one batch, kept until the batch
 * is done and then written to the dead-letter store in one append (one
 * fdatasync). A piece is a run of the batch's records that failed
 * together; each of its records becomes one dead letter with the piece's
 * status, reason, response, attempts and times. */
#ifndef SL_GRAVES_H
#define SL_GRAVES_H

#include <stddef.h>
#include <stdint.h>

struct curl_slist;
struct sl_batch;
struct sl_dlq;

struct sl_graves;
typedef struct sl_graves sl_graves;

/* One dead piece as bury knows it. Every pointer is borrowed: the strings
 * and the response are copied by sl_graves_add. */
typedef struct sl_graves_piece {
    size_t from, n;              /* records [from, from + n) of the batch */
    int picked;                  /* ...of its picks, as sl_batch_piece */
    long status;                 /* last HTTP status; 0 = none */
    unsigned attempts;
    int64_t first_ms, last_ms;   /* wall clock of the first and last try */
    const char *reason;
    const char *response;        /* the last answer's body, may be NULL */
    size_t response_len;         /* cut to SL_DLQ_ENTRY_RESPONSE_MAX */
    const char *url;             /* NULL: no request was made */
    const char *key;             /* the batch's idempotency key */
    const struct curl_slist *sent; /* the request's headers: their secret
                                      values are masked in the response
                                      kept (sl_attempt_log_mask); or NULL */
} sl_graves_piece;

/* Keep piece p in *g (made on the first call; *g may be NULL). Returns 0,
 * or -1 out of memory (then nothing of p is kept and *g is unchanged). */
int sl_graves_add(sl_graves **g, const sl_graves_piece *p);

/* Records kept so far (0 for NULL). */
size_t sl_graves_records(const sl_graves *g);

/* Pieces kept so far (0 for NULL), and dropping those kept after such a
 * count: what a caller adding several pieces as one does when a later
 * one fails. */
size_t sl_graves_pieces(const sl_graves *g);
void sl_graves_drop_after(sl_graves *g, size_t pieces);

/* Append every kept piece's records (read from `recs`) to `dlq` in one
 * sl_dlq_append. dlq NULL (no store) or nothing kept: 0. Returns 0, or -1
 * with the reason in err; the pieces stay kept either way. */
int sl_graves_write(const sl_graves *g, const struct sl_batch *recs,
                    struct sl_dlq *dlq, char *err, size_t errlen);

/* Accepts NULL. */
void sl_graves_free(sl_graves *g);

#endif
