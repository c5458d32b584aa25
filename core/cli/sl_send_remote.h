/* sl_send_remote: `sluice send` through a gateway that already runs the
 * connector: batches of records posted to that gateway's intake
 * (POST /v1/connectors/{name}/records) over one kept-alive libcurl easy
 * handle, with its intake key, retrying what the intake asks to retry and
 * halving what it finds too large. */
#ifndef SL_SEND_REMOTE_H
#define SL_SEND_REMOTE_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_config.h"

#define SL_SEND_REMOTE_MAX_ANSWER (4u << 20) /* longest answer body read */
#define SL_SEND_REMOTE_BUSY_TRIES 30 /* posts of a batch answered 503/429 */
#define SL_SEND_REMOTE_CONN_TRIES 5  /* posts of a batch that got no answer
                                        (or a 5xx other than 503) */
#define SL_SEND_REMOTE_MAX_WAIT_S 60 /* longest wait between two posts */

struct sl_send_remote;
typedef struct sl_send_remote sl_send_remote;

/* A submitter to the intake of the gateway described by `cfg` (its
 * `listen`, and its `tls`: then https, the gateway's own certificate as
 * the only one trusted) for connector `cc`, sending its first intake key
 * when it has `intake_keys`. Both are borrowed and must outlive the
 * submitter. NULL with a message in err when it cannot be done (an intake
 * that demands client certificates, out of memory). Nothing is sent yet. */
sl_send_remote *sl_send_remote_new(const sl_config *cfg,
                                   const sl_connector_conf *cc, char *err,
                                   size_t errlen);

/* Free, closing the connection. Accepts NULL. */
void sl_send_remote_free(sl_send_remote *r);

/* The records URL, "http://HOST:PORT/v1/connectors/NAME/records" (or
 * https); borrowed from r. */
const char *sl_send_remote_url(const sl_send_remote *r);

/* Post one batch, `json_array` (a JSON array of records, `len` bytes), and
 * write the gateway's answer to `answer` (appended; its cap should allow
 * SL_SEND_REMOTE_MAX_ANSWER). `ud` is an sl_send_remote *; the shape is
 * that of the in-process submitter of sl_send.
 *
 * Returns the HTTP status, as the in-process ingest does:
 *  200/422  answer is {"accepted":N,["dropped":N,]"rejected":[{"index":i,
 *           "field":..,"error":..},...][,"rejected_total":N,
 *           "rejected_truncated":true]}, checked; indices count from the
 *           batch's first record, also when the batch had to be halved
 *           (a 413 splits it in two, recursively, the answers merged);
 *  503/429  still busy after SL_SEND_REMOTE_BUSY_TRIES posts: nothing of
 *           the batch (or of the part not yet taken: see below) was
 *           taken; *retry_after_s gets the gateway's last Retry-After;
 *           (a record that is too large alone, 413, is one of the
 *           rejections: "larger than the gateway's limits");
 *  400, 401, 403, 404, other 4xx: final for the batch; answer is
 *           {"error":"..."} saying what to do;
 *  -1       no usable answer (connection failed SL_SEND_REMOTE_CONN_TRIES
 *           times, a 5xx, an answer too large or malformed):
 *           answer is {"error":"..."}.
 * When a halved batch fails part-way, the status is that of the failing
 * half; the halves before it were taken (their answer is not returned:
 * the error says so). */
int sl_send_remote_submit(void *ud, const char *json_array, size_t len,
                          sl_buf *answer, int *retry_after_s);

/* Asked before and during each wait between two posts (a signal ends
 * the sleep): nonzero gives up waiting (a second Ctrl-C), and the batch
 * is answered as it stands (503/429, or -1 "cannot be reached"). */
void sl_send_remote_set_stop(sl_send_remote *r, int (*stop)(void *ud),
                             void *ud);

/* Wait in sl_send_remote_submit between posts at most this many ms per
 * second asked for (1000 by default; tests lower it). */
void sl_send_remote_set_time_scale(sl_send_remote *r, unsigned ms_per_s);

#endif
