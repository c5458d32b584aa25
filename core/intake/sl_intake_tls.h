/* sl_intake_tls: the server context of an intake's `tls` (the HTTP
 * intake's, a TCP listener's), built from its files: at the start and on
 * every reload, so that a reload also picks up rotated certificates. A
 * certificate that has expired, or soon will, is logged. */
#ifndef SL_INTAKE_TLS_H
#define SL_INTAKE_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "sl_config.h"

/* *out = the context for tls (the caller owns it: SSL_CTX_free), or NULL
 * when tls has no cert (plain). 0, or -1 with the reason in err, naming
 * the key by `what` ("tls", "tcp[2].tls") and the option at fault
 * ("tls.key: ..."). */
int sl_intake_tls_ctx(const sl_tls_conf *tls, const char *what, SSL_CTX **out,
                      char *err, size_t errlen);

#endif
