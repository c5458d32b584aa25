/* sl_intake_tcp_lines: how much of a TCP connection's buffer goes on as
 * one chunk: whole lines, none longer than max_line_bytes, at most
 * SL_INTAKE_TCP_LINES_ACK_MAX lines with ack (all of them answered). Pure. */
#ifndef SL_INTAKE_TCP_LINES_H
#define SL_INTAKE_TCP_LINES_H

#include <stddef.h>

#define SL_INTAKE_TCP_LINES_ACK_MAX 1000 /* lines per chunk with ack */

/* Length of the prefix of data[0..n) to hand on: whole lines, none longer
 * than max, at most SL_INTAKE_TCP_LINES_ACK_MAX lines with ack. *too_long
 * is set when the first line itself is too long (then 0 is returned).
 * Where neither bound can bite, only the last newline is looked for: the
 * ingest walks the lines (and counts them) anyway. */
size_t sl_intake_tcp_lines_whole(size_t max, int ack, const char *data,
                                 size_t n, int *too_long);

#endif
