/* sl_intake_tcp_ack: one TCP connection's `ack` answers ("ok" or
 * "error {...}" per line, in line order): a chunk's answers built while
 * it is checked, then kept until the spool says its records are durable
 * (or failed), written to the connection's output and timed. Loop thread
 * only. */
#ifndef SL_INTAKE_TCP_ACK_H
#define SL_INTAKE_TCP_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "sl_connector.h"

struct event;
struct evbuffer;
struct sl_intake_tcp_ack;
typedef struct sl_intake_tcp_ack sl_intake_tcp_ack;

/* Answers for connector c go to out, with wev added to write them (both
 * borrowed, outlive the queue). NULL out of memory. */
sl_intake_tcp_ack *sl_intake_tcp_ack_new(sl_connector *c,
                                         struct evbuffer *out,
                                         struct event *wev);
void sl_intake_tcp_ack_free(sl_intake_tcp_ack *a); /* accepts NULL */

/* A chunk whose first line is first_line: its answers start. */
void sl_intake_tcp_ack_begin(sl_intake_tcp_ack *a, uint64_t first_line);

/* sl_connector_reject_fn (ud: the queue): the lines before `line` "ok",
 * then this one with its reason. */
void sl_intake_tcp_ack_reject(void *ud, uint64_t line, const char *rej,
                              size_t rlen);

/* The chunk ends at last_line (every line not rejected is "ok"); its
 * nlines answers go out once `ticket` is durable (0: nothing to wait
 * for, but behind the chunks before it), timed from t0 (monotonic µs). */
void sl_intake_tcp_ack_end(sl_intake_tcp_ack *a, uint64_t last_line,
                           uint64_t ticket, size_t nlines, uint64_t t0);

/* The spool's word (sl_connector_durable_fn's lsn, ok): the answers now
 * due are written; *now is read once when first needed (0: not yet). */
void sl_intake_tcp_ack_durable(sl_intake_tcp_ack *a, uint64_t lsn, int ok,
                               uint64_t *now);

/* Answers still waiting for durability? */
int sl_intake_tcp_ack_waiting(const sl_intake_tcp_ack *a);

#endif
