/* sl_intake_tls: see sl_intake_tls.h. */
#include "sl_intake_tls.h"

#include <stdio.h>
#include <time.h>

#include "sl_log.h"
#include "sl_tls_files.h"
#include "sl_tls_server.h"

static void warn_expiry(const sl_tls_conf *tls, const char *what)
{
    sl_tls_files_info info;
    if (sl_tls_files_info_of(tls->cert, &info, NULL, 0) != 0)
        return;
    switch (sl_tls_files_expiry_at(info.expires, time(NULL),
                                   SL_TLS_FILES_WARN_DAYS)) {
    case SL_TLS_FILES_EXPIRED:
        sl_log_warn("gateway", "%s.cert %s (%s) expired on %s: clients will "
                    "refuse it", what, tls->cert, info.subject,
                    info.not_after);
        break;
    case SL_TLS_FILES_EXPIRING:
        sl_log_warn("gateway", "%s.cert %s (%s) expires on %s, within %d "
                    "days", what, tls->cert, info.subject, info.not_after,
                    SL_TLS_FILES_WARN_DAYS);
        break;
    default:
        break;
    }
}

int sl_intake_tls_ctx(const sl_tls_conf *tls, const char *what, SSL_CTX **out,
                      char *err, size_t errlen)
{
    char why[512];
    const char *bad = NULL;
    *out = NULL;
    if (!tls->cert)
        return 0;
    sl_tls_server_opts o = {
        .cert = tls->cert, .key = tls->key, .client_ca = tls->client_ca,
        .require_client_cert = tls->require_client_cert,
        .min_version = tls->min_version == 1 ? 13 : 12};
    if (!(*out = sl_tls_server_ctx_new(&o, &bad, why, sizeof why))) {
        snprintf(err, errlen, "%s%s%s: %s", what, bad ? "." : "",
                 bad ? bad : "", why);
        return -1;
    }
    warn_expiry(tls, what);
    return 0;
}
