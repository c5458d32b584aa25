/* sl_tls_report: one connector's account of its TLS failures. A failed
 * handshake is counted by cause (sl_tls_cause) and logged once, then again
 * only when its cause changes, and once more when TLS works again -- not
 * once per attempt, which for a destination that is wrong for a day is
 * thousands of lines saying the same. */
#ifndef SL_TLS_REPORT_H
#define SL_TLS_REPORT_H

#include "sl_http_client.h"
#include "sl_stats.h"

struct sl_tls_report;
typedef struct sl_tls_report sl_tls_report;

/* A report for connector `name` (its log lines), counting into
 * stats->tls_failures; `have_client_cert`: its requests present one.
 * Both pointers are borrowed and must outlive the report. NULL when out
 * of memory. */
sl_tls_report *sl_tls_report_new(const char *name, int have_client_cert,
                                 sl_stats *stats);

/* Accepts NULL. */
void sl_tls_report_free(sl_tls_report *r);

/* An attempt to `url` ended with `res`. Returns 1 when it was a TLS
 * failure -- a failed transfer (sl_tls_cause_classify) or an answer that
 * is a TLS refusal (sl_tls_cause_of_answer; the caller retries it as a
 * transport error) -- counted, and logged (warn) if its cause differs
 * from the last one's: the caller logs nothing more about it. Returns 0
 * otherwise; another answer (any HTTP status) after TLS failures logs
 * (info) that TLS to the host works again and after how many failed
 * attempts. */
int sl_tls_report_attempt(sl_tls_report *r, const char *url,
                          const sl_http_client_response *res);

/* The cause of the last TLS failure, SL_TLS_CAUSE_NONE once TLS works
 * again (or before any failure). */
sl_tls_cause sl_tls_report_cause(const sl_tls_report *r);

#endif
