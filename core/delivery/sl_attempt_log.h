/* sl_attempt_log: the log line of a failed attempt — its status and the
 * start of the answer's body, with the secrets the request carried taken
 * out, or its transport error. A destination that echoes a request's
 * Authorization (or another secret-looking header) in its error body
 * would otherwise put it in the log. */
#ifndef SL_ATTEMPT_LOG_H
#define SL_ATTEMPT_LOG_H

#include <stddef.h>

#include <curl/curl.h>

#include "sl_http_client.h"

/* Copy `body` (len bytes) into out as one line, at most outlen - 1 bytes
 * and a NUL: every occurrence of the value of a header of `headers`
 * ("Name: value" lines) whose name looks secret
 * (sl_config_header_is_secret), and of its credentials after a scheme
 * word ("Bearer X": X), as "****" — matched against the whole body, so a
 * value cut by the end of out is still taken out. Values shorter than 4
 * bytes are left (they would mask ordinary text). NUL, CR and LF become
 * spaces. Returns out. headers may be NULL. */
const char *sl_attempt_log_redact(const struct curl_slist *headers,
                                  const char *body, size_t len,
                                  char *out, size_t outlen);

/* The same secrets overwritten with '*' in dst, a copy of the first
 * dstlen bytes of src (srclen bytes, dstlen <= srclen; a dead letter's
 * kept answer): matched in src, so a value cut at dstlen is masked too.
 * headers may be NULL. */
void sl_attempt_log_mask(const struct curl_slist *headers, const char *src,
                         size_t srclen, char *dst, size_t dstlen);

/* Warn (component "delivery") about a failed attempt of batch `key` (n
 * records) to url: "HTTP <status>: <body, up to 200 bytes, redacted with
 * `headers`, the request's>" or, without a status, res->error. */
void sl_attempt_log_failure(const char *key, size_t n, unsigned attempt,
                            const char *url,
                            const sl_http_client_response *res,
                            const struct curl_slist *headers);

#endif
