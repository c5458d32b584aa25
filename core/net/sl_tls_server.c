/* sl_tls_server: the intake's SSL_CTX, built from PEM files with the
 * reason for each file OpenSSL refuses. */
#include "sl_tls_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* The reason OpenSSL gave last (its queue is emptied), or `fallback`. */
static const char *ssl_reason(char *buf, size_t n, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, n, "%s", r ? r : fallback);
    ERR_clear_error();
    return buf;
}

/* 0 when `path` is a regular file that can be read and is not larger
 * than SL_TLS_SERVER_MAX_BYTES (OpenSSL's PEM reader would read a FIFO or
 * /dev/zero for ever); else -1, the reason in err. */
static int readable(const char *path, char *err, size_t errlen)
{
    struct stat st;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot be read: %s", path, strerror(errno));
        return -1;
    }
    int rc = fstat(fd, &st);
    close(fd);
    if (rc != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    if ((unsigned long long)st.st_size > SL_TLS_SERVER_MAX_BYTES) {
        snprintf(err, errlen, "%s: %lld bytes, larger than a PEM file can "
                 "be here (%zu)", path, (long long)st.st_size,
                 SL_TLS_SERVER_MAX_BYTES);
        return -1;
    }
    return 0;
}

/* An encrypted key is not asked for a passphrase (none is configured):
 * it fails as a key that cannot be read. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static int load_cert(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
    char why[160];
    if (readable(path, err, errlen) != 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) {
        snprintf(err, errlen, "%s: not a PEM certificate (%s)", path,
                 ssl_reason(why, sizeof why, "no certificate found"));
        return -1;
    }
    return 0;
}

static int load_key(SSL_CTX *ctx, const char *path, const char *cert,
                    char *err, size_t errlen)
{
    char why[160];
    if (readable(path, err, errlen) != 0)
        return -1;
    FILE *f = fopen(path, "r");
    EVP_PKEY *pkey = f ? PEM_read_PrivateKey(f, NULL, no_password, NULL)
                       : NULL;
    if (f)
        fclose(f);
    if (!pkey) {
        snprintf(err, errlen, "%s: not an unencrypted PEM private key (%s)",
                 path, ssl_reason(why, sizeof why, "no key found"));
        return -1;
    }
    int ok = SSL_CTX_use_PrivateKey(ctx, pkey) == 1 &&
             SSL_CTX_check_private_key(ctx) == 1;
    EVP_PKEY_free(pkey);
    if (!ok) {
        ERR_clear_error();
        snprintf(err, errlen, "%s: the key does not match the certificate "
                 "in %s", path, cert);
        return -1;
    }
    return 0;
}

static int load_client_ca(SSL_CTX *ctx, const char *path, int require,
                          char *err, size_t errlen)
{
    char why[160];
    if (readable(path, err, errlen) != 0)
        return -1;
    if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
        snprintf(err, errlen, "%s: not a PEM CA certificate (%s)", path,
                 ssl_reason(why, sizeof why, "no certificate found"));
        return -1;
    }
    /* the names a client picks its certificate by */
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(path);
    if (!names) {
        snprintf(err, errlen, "%s: not a PEM CA certificate (%s)", path,
                 ssl_reason(why, sizeof why, "no certificate found"));
        return -1;
    }
    SSL_CTX_set_client_CA_list(ctx, names); /* takes names */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (require
                                   ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       NULL);
    return 0;
}

/* A server context without files: the lowest version of o, no
 * renegotiation, a clean end without close_notify, never a passphrase
 * prompt. NULL with the reason in err and *at set ("min_version", or
 * NULL: out of memory). */
static SSL_CTX *bare_ctx(int min_version, const char **at, char *err,
                         size_t errlen)
{
    static const unsigned char sid[] = "sluice-intake";
    if (min_version != 0 && min_version != 12 && min_version != 13) {
        *at = "min_version";
        snprintf(err, errlen, "must be \"1.2\" or \"1.3\"");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "out of memory (SSL_CTX_new)");
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, min_version == 13
                                               ? TLS1_3_VERSION
                                               : TLS1_2_VERSION) != 1) {
        *at = "min_version";
        snprintf(err, errlen, "this OpenSSL does not support it");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* the TCP intake writes from a buffer that moves between retries */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_default_passwd_cb(ctx, no_password);
    /* resumed sessions of verified clients need one */
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    return ctx;
}

/* o's files loaded into ctx: 0, or -1 with the reason in err and *at the
 * option at fault. */
static int load_files(SSL_CTX *ctx, const sl_tls_server_opts *o,
                      const char **at, char *err, size_t errlen)
{
    if (!o->cert || !*o->cert) {
        *at = "cert";
        snprintf(err, errlen, "a server certificate is required");
        return -1;
    }
    if (!o->key || !*o->key) {
        *at = "key";
        snprintf(err, errlen, "the private key of cert is required");
        return -1;
    }
    if (load_cert(ctx, o->cert, err, errlen) != 0) {
        *at = "cert";
        return -1;
    }
    if (load_key(ctx, o->key, o->cert, err, errlen) != 0) {
        *at = "key";
        return -1;
    }
    if (o->require_client_cert && !(o->client_ca && *o->client_ca)) {
        *at = "require_client_cert";
        snprintf(err, errlen, "needs client_ca, the CA that signs the "
                 "client certificates");
        return -1;
    }
    if (o->client_ca && *o->client_ca &&
        load_client_ca(ctx, o->client_ca, o->require_client_cert, err,
                       errlen) != 0) {
        *at = "client_ca";
        return -1;
    }
    return 0;
}

SSL_CTX *sl_tls_server_ctx_new(const sl_tls_server_opts *o, const char **bad,
                               char *err, size_t errlen)
{
    const char *at = NULL;
    SSL_CTX *ctx = bare_ctx(o->min_version, &at, err, errlen);
    if (ctx && load_files(ctx, o, &at, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    ERR_clear_error(); /* the queue is left empty, either way */
    if (bad)
        *bad = ctx ? NULL : at;
    return ctx;
}
