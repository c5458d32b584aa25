/* sl_send_local: `sluice send` running the connector in this process,
 * when no gateway holds its state directory: its own event loop, HTTP
 * client and sl_connector (transform, checks, spool, delivery as under
 * `sluice run`). Batches are taken by sl_send_local_submit, which pumps
 * the loop (delivery goes on meanwhile) until the batch is durable;
 * sl_send_local_drain then waits until everything is delivered or
 * dead-lettered. */
#ifndef SL_SEND_LOCAL_H
#define SL_SEND_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_config.h"

/* Asked on each turn of the loop: tick (may be NULL) for progress, stop
 * (may be NULL) nonzero to give up waiting at once (a second Ctrl-C). */
typedef struct sl_send_local_hooks {
    void (*tick)(void *ud);
    int (*stop)(void *ud);
    void *ud;
} sl_send_local_hooks;

struct sl_send_local;
typedef struct sl_send_local sl_send_local;

/* Open connector cc of cfg (both borrowed, must outlive it) in this
 * process: its state directory is locked (it must not be held by a
 * gateway) and its spool recovered; a schema changed since the
 * connector last ran is refused, as `sluice run` refuses it. NULL with a
 * message in err. */
sl_send_local *sl_send_local_new(const sl_config *cfg,
                                 const sl_connector_conf *cc,
                                 const sl_send_local_hooks *hooks, char *err,
                                 size_t errlen);

/* Shut the connector down (its spool written and synced: records not
 * delivered stay there for the next run), free. Waits for requests in
 * flight unless hooks' stop says not to. Accepts NULL. */
void sl_send_local_free(sl_send_local *l);

/* The submitter of sl_send (ud is an sl_send_local *): check and spool
 * the JSON array json_array[0..len), answer appended to `answer`, and
 * return the status of sl_connector_ingest: 200 (some accepted) or 422
 * (none), with {"accepted":N,"rejected":[{"index":i,...}]}, once the
 * records are durable; 400 malformed; 500 the spool could not be
 * written ({"error":..}). A full spool (503) is waited out here, the
 * loop delivering meanwhile; 503 is returned only when hooks' stop asks
 * to give up (*retry_after_s set; nothing of the batch was taken). */
int sl_send_local_submit(void *ud, const char *json_array, size_t len,
                         sl_buf *answer, int *retry_after_s);

/* Run the loop until no record is undelivered. 0, or 1 when hooks'
 * stop gave up first. */
int sl_send_local_drain(sl_send_local *l);

/* Run the loop (delivery goes on) for one turn, at most about 50 ms,
 * or until fd is readable: 1 it is (or cannot be waited for: a regular
 * file), 0 not yet. */
int sl_send_local_wait_fd(sl_send_local *l, int fd);

/* Run what is ready on the loop, without waiting. */
void sl_send_local_poll(sl_send_local *l);

typedef struct sl_send_local_counts {
    uint64_t delivered;   /* records delivered since the open */
    uint64_t dead;        /* records dead-lettered since the open */
    uint64_t undelivered; /* records in the spool or in flight now */
    uint64_t leftover;    /* undelivered at the open (an earlier run's) */
    int durable;          /* the spool keeps records across runs */
} sl_send_local_counts;

void sl_send_local_counts_get(const sl_send_local *l,
                              sl_send_local_counts *out);

#endif
