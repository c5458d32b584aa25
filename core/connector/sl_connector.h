/* sl_connector: one connector at run time — its configuration, state
 * directory, spool, dead letters, sender and counters — and the
 * transport-independent intake entry point that answers a body with
 * accepted/rejected records. */
#ifndef SL_CONNECTOR_H
#define SL_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "sl_auth.h"
#include "sl_buf.h"
#include "sl_config.h"
#include "sl_http_client.h"
#include "sl_ingest.h"
#include "sl_rejectlog.h"
#include "sl_stats.h"

struct event_base;
struct sl_syncpool;
struct sl_connector;
typedef struct sl_connector sl_connector;

/* A running connector for `conf` (borrowed; must outlive it) keeping its
 * state in <state_dir>/<name> (created; locked against a second gateway;
 * the spool is recovered). Its spool syncs on `syncpool` (borrowed, shared
 * by the process's connectors, must outlive it; NULL: one thread of the
 * spool's own), as it sends with `http`. NULL with a message in err on
 * failure. */
sl_connector *sl_connector_new(const sl_connector_conf *conf,
                               const char *state_dir, struct event_base *base,
                               sl_http_client *http,
                               struct sl_syncpool *syncpool, char *err,
                               size_t errlen);

/* Write and sync the spool, release the lock, free. Accepts NULL. */
void sl_connector_free(sl_connector *c);

/* Answers waiting for durability: `fn(ud, lsn, ok)` is called on the loop
 * when every ingest whose *ticket <= lsn is durable (ok = 1), or when
 * every ingest whose *ticket > lsn failed to be written (ok = 0). Each
 * intake registers once; 0, or -1 when SL_CONNECTOR_MAX_WAITERS are
 * registered already. */
typedef void (*sl_connector_durable_fn)(void *ud, sl_connector *c,
                                        uint64_t lsn, int ok);
#define SL_CONNECTOR_MAX_WAITERS 8
int sl_connector_add_durable_cb(sl_connector *c, sl_connector_durable_fn fn,
                                void *ud);
void sl_connector_remove_durable_cb(sl_connector *c, sl_connector_durable_fn fn,
                                    void *ud);

const char *sl_connector_name(const sl_connector *c);

/* Its state directory, <state_dir>/<name>; borrowed. */
const char *sl_connector_dir(const sl_connector *c);

/* NULL while its spool writes work; after one failed (disk full, I/O
 * error) and until one is durable again, why (borrowed). */
const char *sl_connector_spool_failure(const sl_connector *c);

/* Is a request with this Authorization header value (may be NULL) let
 * in? SL_AUTH_OK when the connector has no intake keys. Counts refusals. */
sl_auth_rc sl_connector_authorize(sl_connector *c, const char *authorization);

/* Check, encode and spool the records of one body. Writes the JSON answer
 * ({"accepted":N,"rejected":[...]} or {"error":...}) to `answer` and
 * returns the HTTP status: 200 some accepted (or an empty array), 422 none
 * accepted, 400 malformed JSON, 503 spool full (*retry_after_s set), 500
 * out of memory. Nothing is spooled unless the status is 200. With a
 * durable spool, *ticket > 0 means: do not answer before the durable
 * callback has reported an LSN >= *ticket. */
int sl_connector_ingest(sl_connector *c, sl_ingest_format fmt,
                        const char *body, size_t len, sl_buf *answer,
                        int *retry_after_s, uint64_t *ticket);

/* A dry run of sl_connector_ingest: the same checks (the transform runs
 * as for a real post), the same answer and status, but nothing spooled,
 * nothing delivered, nothing counted but the connector's dry_runs. A
 * full spool does not refuse it (it checks records, it needs no room);
 * shutting down, it is refused 503 as a real post is. */
int sl_connector_ingest_dry(sl_connector *c, sl_ingest_format fmt,
                            const char *body, size_t len, sl_buf *answer,
                            int *retry_after_s);

/* Bodies checked on the check threads. A connector given a pool
 * (sl_connector_set_offload) checks a POST's records there, its transform
 * in a Lua state of each thread's own; spooling, counting and the answer
 * stay on the loop, in the order the bodies were posted. */
struct sl_offload;
void sl_connector_set_offload(sl_connector *c, struct sl_offload *pool);

/* Is c given a pool (then the intake posts with sl_connector_post)? */
int sl_connector_checks_off_loop(const sl_connector *c);

/* The answer to a post, on the loop: as sl_connector_ingest's status,
 * answer (borrowed for the call), *retry_after_s and *ticket. */
typedef void (*sl_connector_posted_fn)(void *ud, int status,
                                       const sl_buf *answer,
                                       int retry_after_s, uint64_t ticket);

/* sl_connector_ingest (dry: sl_connector_ingest_dry) with the check on a
 * check thread: 0 when submitted, fn(ud, ...) then called on the loop,
 * never inside this call; body[0..len) must stay valid until then.
 * Otherwise the status of an answer written to answer now (503 shutting
 * down, with *retry_after_s; 500 out of memory); fn is not called. */
int sl_connector_post(sl_connector *c, sl_ingest_format fmt, const char *body,
                      size_t len, int dry, sl_connector_posted_fn fn, void *ud,
                      sl_buf *answer, int *retry_after_s);

/* Called by sl_connector_ingest_stream for each rejected line: its line
 * number on the stream and the rejection's JSON members after the index
 * (`"field":...,"error":...}`). */
typedef sl_rejectlog_each_fn sl_connector_reject_fn;

/* Which intake waited: the latency histogram an observation goes to. */
typedef enum sl_connector_intake {
    SL_CONNECTOR_INTAKE_HTTP,    /* an HTTP request, from the whole request
                                    read to its answer */
    SL_CONNECTOR_INTAKE_TCP_ACK, /* a TCP line with ack, from its chunk
                                    handed on to its answer queued */
} sl_connector_intake;

/* `n` requests (HTTP: 1) or lines (TCP: those of one chunk) of `kind`
 * to c each took `us` microseconds: counted in that histogram. */
void sl_connector_observe_request(sl_connector *c, sl_connector_intake kind,
                                  uint64_t us, uint64_t n);

/* Write one rejected stream line to the reject log (and count it) —
 * for lines the stream intake refuses itself (e.g. too long). */
void sl_connector_log_reject(sl_connector *c, const char *peer, uint64_t line,
                             const char *text, size_t textlen,
                             const char *rejection, size_t rlen);

/* A stream intake's whole lines data[0..len) (NDJSON; the first is line
 * `first_line` of the stream from `peer`): checked, encoded and spooled
 * like sl_connector_ingest's, rejected lines written to the connector's
 * reject log (<dir>/rejects.ndjson) and, with `on_reject`, reported. At
 * most SL_INGEST_MAX_LISTED rejections are logged per call (the rest are
 * counted). Returns 200, 503 when the spool is full or shutting down
 * (nothing taken: call again later with the same lines), 500 out of
 * memory (nothing taken). *ticket as for sl_connector_ingest. */
int sl_connector_ingest_stream(sl_connector *c, const char *data, size_t len,
                               const char *peer, uint64_t first_line,
                               sl_connector_reject_fn on_reject, void *ud,
                               uint64_t *ticket, sl_ingest_result *res);

/* The outcome of a chunk sl_connector_post_stream took, on the loop: the
 * status, *ticket and res as sl_connector_ingest_stream returns them
 * (503 and 500: nothing taken, hand the same lines on again). */
typedef void (*sl_connector_streamed_fn)(void *ud, int status,
                                         uint64_t ticket,
                                         const sl_ingest_result *res);

/* sl_connector_ingest_stream with the check on a check thread (for a
 * connector given a pool: sl_connector_checks_off_loop). data[0..len)
 * must stay valid and unchanged until fn runs. 0 when taken, fn(ud, ...) then called
 * on the loop (never inside this call), after on_reject(ud, ...) for each
 * rejected line; or 503 (no room, shutting down) or 500 (out of memory)
 * with nothing taken and fn not called. */
int sl_connector_post_stream(sl_connector *c, const char *data, size_t len,
                             const char *peer, uint64_t first_line,
                             sl_connector_reject_fn on_reject,
                             sl_connector_streamed_fn fn, void *ud);

/* Append {"name":..,"url":..,"method":..,"body":..,"schema":[..],
 * "stats":{..}} to out; "stats" is sl_metrics_connector_table's JSON. */
void sl_connector_describe(const sl_connector *c, sl_buf *out);

/* Its values as /metrics shows them (sl_metrics_connector_table's view;
 * m->name is borrowed from c). */
struct sl_metrics_connector;
void sl_connector_read(const sl_connector *c, struct sl_metrics_connector *m);

/* Its health now: the state's name ("delivering", "degraded",
 * "blocked"), *since when (wall ms), *last_error ("" none yet; borrowed
 * until the connector's next delivery answer or refusal). */
const char *sl_connector_health(const sl_connector *c, int64_t *since,
                                const char **last_error);

/* Append the Prometheus text exposition of `n` connectors to out, each
 * metric family of sl_metrics_connector_table once with a sample per
 * connector. Returns 0, or -1 out of memory (out is then unchanged). */
int sl_connector_metrics(sl_connector *const *cs, size_t n, sl_buf *out);

/* Shutdown. With durability "memory": send everything queued now, retry
 * failures soon. Otherwise: make the spool durable (answering every
 * waiting request), cut no new batch, start no retry. */
void sl_connector_shutdown(sl_connector *c);

/* Is there still something to wait for before exiting? Memory: records
 * queued or outstanding. Durable: requests in flight. */
size_t sl_connector_busy(const sl_connector *c);

/* Records not yet delivered (spooled or outstanding). */
size_t sl_connector_undelivered(const sl_connector *c);

/* Does the connector keep records across restarts (fsync or os)? */
int sl_connector_durable(const sl_connector *c);

/* Reload: make `conf` (borrowed, as for sl_connector_new; same name,
 * schema and durability) the configuration of records taken and batches
 * cut from now on — a new sender, Lua runtime, transform and intake keys.
 * The old sender cuts no more; its outstanding batches finish with the
 * old configuration, which must stay alive while sl_connector_uses says
 * so. An ordered connector's new sender cuts once the old one is done.
 * Not after sl_connector_shutdown. 0, or -1 with a message in err and
 * nothing changed. */
int sl_connector_reconfigure(sl_connector *c, const sl_connector_conf *conf,
                             char *err, size_t errlen);

/* The configuration records are taken with now. */
const sl_connector_conf *sl_connector_conf_of(const sl_connector *c);

/* Does the connector still use `conf` (now, or for batches cut before a
 * reconfigure that are not done)? */
int sl_connector_uses(const sl_connector *c, const sl_connector_conf *conf);

/* Free the earlier configurations' senders whose batches are all done
 * (the connector also does it once a second). Returns how many remain. */
size_t sl_connector_collect(sl_connector *c);

#endif
