/* sl_tls_files: the files a connector's TLS names (sl_transport_tls),
 * read as curl will read them when it connects, so that `sluice check`
 * and the start can say what is wrong with them first: a file missing or
 * unreadable, not PEM, a key that does not open or does not match its
 * certificate, a certificate expired, not yet valid or about to expire.
 * OpenSSL does the reading (PEM_read_bio_X509, PEM_read_bio_PrivateKey,
 * X509_check_private_key, X509_cmp_time). No state: every call reads the
 * files again. */
#ifndef SL_TLS_FILES_H
#define SL_TLS_FILES_H

#include <stddef.h>
#include <time.h>

#include "sl_transport.h"

/* A file larger than this is refused before it is parsed; so is one
 * that is not a regular file (a FIFO would block the reader). */
#define SL_TLS_FILES_MAX_BYTES ((size_t)4 << 20)

/* A certificate that expires within this many days is warned of, by
 * `sluice check` and at start: a connector's files, a proxy's CA file and
 * an intake's certificate alike. */
#define SL_TLS_FILES_WARN_DAYS 14

typedef enum sl_tls_files_level {
    SL_TLS_FILES_ERROR,  /* curl would fail with it: the config is wrong */
    SL_TLS_FILES_WARNING /* works now, will not for long */
} sl_tls_files_level;

/* One finding: `key` is the tls key it is about ("ca_file", "ca_path",
 * "client_cert", "client_key", "client_key_password"), msg one line that
 * names the file and the cause (never the password). Both valid only
 * during the call. */
typedef void (*sl_tls_files_report_fn)(void *ud, sl_tls_files_level level,
                                       const char *key, const char *msg);

/* Read every file tls names and report each problem: errors for what
 * makes the handshake fail, warnings for a certificate (client_cert, or
 * one of ca_file's) that expires within warn_days of `now`. Returns the
 * number of errors. */
int sl_tls_files_check(const sl_transport_tls *tls, time_t now,
                       int warn_days, sl_tls_files_report_fn report,
                       void *ud);

/* What a certificate file says, for a person: */
typedef struct sl_tls_files_info {
    size_t ncerts;        /* certificates in the file */
    char subject[256];    /* the first one's subject (RFC 2253, control
                             characters shown as '?') */
    char not_after[32];   /* its expiry, "2026-12-31 23:59:59 UTC" */
    time_t expires;       /* the same as a time */
} sl_tls_files_info;

/* Fill info from the PEM certificates at path. 0, or -1 when the file
 * cannot be read, is not a regular file or holds no certificate (info
 * zeroed), with the reason, naming the file, in err (errlen bytes; err
 * may be NULL). */
int sl_tls_files_info_of(const char *path, sl_tls_files_info *info,
                         char *err, size_t errlen);

typedef enum sl_tls_files_expiry {
    SL_TLS_FILES_VALID,    /* valid for more than warn_days */
    SL_TLS_FILES_EXPIRING, /* expires within warn_days */
    SL_TLS_FILES_EXPIRED
} sl_tls_files_expiry;

/* How a certificate that expires at `expires` stands at `now`: the one
 * rule of the expiry warning (a certificate that ends exactly now has
 * expired). */
sl_tls_files_expiry sl_tls_files_expiry_at(time_t expires, time_t now,
                                           int warn_days);

#endif
