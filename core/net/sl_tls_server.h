/* sl_tls_server: the OpenSSL server context of a TLS intake (the HTTP
 * intake's `tls`, a TCP listener's `tcp[n].tls`): its certificate and key,
 * the CAs whose client certificates it accepts, the lowest protocol
 * version. Building a context is also how the configuration is validated:
 * every file is read and checked as the server will use it. (What
 * `sluice check` and the start say of the certificate's subject and
 * expiry is sl_tls_files_info_of's.) */
#ifndef SL_TLS_SERVER_H
#define SL_TLS_SERVER_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "sl_tls_files.h"

/* A file larger than this is refused before it is parsed: the limit of
 * every TLS file sluice reads. */
#define SL_TLS_SERVER_MAX_BYTES SL_TLS_FILES_MAX_BYTES

typedef struct sl_tls_server_opts {
    const char *cert;        /* PEM file: the server certificate, then any
                                intermediates; required */
    const char *key;         /* PEM private key of cert (unencrypted);
                                required */
    const char *client_ca;   /* PEM CAs whose client certificates are
                                accepted; NULL: none is asked for */
    int require_client_cert; /* with client_ca: a client without a
                                certificate is refused in the handshake */
    int min_version;         /* 12: TLS 1.2 (also 0), 13: TLS 1.3 */
} sl_tls_server_opts;

/* A server context for o. Asks for a client certificate when client_ca is
 * set and verifies one that is given (a client whose certificate fails is
 * refused); with require_client_cert, a client without one is refused.
 * Renegotiation is off; a peer that closes without close_notify is an end
 * of stream, not an error.
 * Returns the context (the caller owns it: SSL_CTX_free), or NULL with the
 * reason in err naming the file, and *bad (if bad is not NULL) set to the
 * option at fault: "cert", "key", "client_ca", "require_client_cert",
 * "min_version" (NULL: none of them, out of memory). Leaves OpenSSL's
 * error queue empty. */
SSL_CTX *sl_tls_server_ctx_new(const sl_tls_server_opts *o, const char **bad,
                               char *err, size_t errlen);

#endif
