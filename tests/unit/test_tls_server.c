/* Unit tests for sl_tls_server: a server context from good files (with and
 * without client CAs, TLS 1.3 only), and every refusal naming the option
 * and the file: missing, a directory, a FIFO, empty, garbage, too large,
 * a certificate where the key should be, an encrypted key, a key of
 * another certificate, require_client_cert without client_ca, a version
 * it does not know. Certificates are made here with OpenSSL
 * (sl_test_tls.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "sl_test.h"
#include "sl_test_dir.h"
#include "sl_test_tls.h"
#include "sl_tls_server.h"

static char dir[256];
static time_t now;

static const char *path_of(const char *name)
{
    return sl_test_path_in(dir, name);
}

static void make_fixtures(void)
{
    EVP_PKEY *k = sl_test_tls_key(), *other = sl_test_tls_key();
    X509 *srv = sl_test_tls_cert(k, "intake.example", -1, 30, now);
    sl_test_tls_write_cert(path_of("srv.pem"), srv, 0);
    sl_test_tls_write_key(path_of("srv.key"), k, NULL);
    sl_test_tls_write_key(path_of("srv.enc"), k, "secret");
    sl_test_tls_write_key(path_of("other.key"), other, NULL);
    X509 *ca = sl_test_tls_cert(other, "clients CA", -1, 365, now);
    sl_test_tls_write_cert(path_of("ca.pem"), ca, 0);
    X509_free(srv);
    X509_free(ca);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
    sl_test_put_file(path_of("empty.pem"), "", 0);
    sl_test_put_file(path_of("junk.pem"), "not PEM at all\n", 15);
    size_t big = SL_TLS_SERVER_MAX_BYTES + 1;
    char *junk = calloc(1, big);
    CHECK(junk != NULL);
    if (junk)
        sl_test_put_file(path_of("big.pem"), junk, big);
    free(junk);
    CHECK(mkdir(path_of("adir"), 0700) == 0);
    CHECK(mkfifo(path_of("fifo"), 0600) == 0);
}

static sl_tls_server_opts opts(const char *cert, const char *key)
{
    sl_tls_server_opts o = {0};
    o.cert = cert ? path_of(cert) : NULL;
    o.key = key ? path_of(key) : NULL;
    return o;
}

/* The refusal of o: at `bad`, its message containing `words`. */
static void refused(const sl_tls_server_opts *o, const char *bad,
                    const char *words, const char *file)
{
    char err[512] = "";
    const char *at = "unset";
    SSL_CTX *ctx = sl_tls_server_ctx_new(o, &at, err, sizeof err);
    CHECK(ctx == NULL);
    SSL_CTX_free(ctx);
    CHECK(at != NULL && strcmp(at, bad) == 0);
    if (at && strcmp(at, bad) != 0)
        fprintf(stderr, "  at %s, want %s (%s)\n", at, bad, err);
    CHECK_CONTAINS(err, words);
    if (file)
        CHECK_CONTAINS(err, path_of(file));
    CHECK(ERR_peek_error() == 0); /* the queue is left empty */
}

static void test_good(void)
{
    char err[512];
    const char *at = "unset";
    sl_tls_server_opts o = opts("srv.pem", "srv.key");
    SSL_CTX *ctx = sl_tls_server_ctx_new(&o, &at, err, sizeof err);
    CHECK(ctx != NULL);
    CHECK(at == NULL);
    CHECK(SSL_CTX_get_verify_mode(ctx) == SSL_VERIFY_NONE);
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
    SSL_CTX_free(ctx);
    o.client_ca = path_of("ca.pem");
    ctx = sl_tls_server_ctx_new(&o, &at, err, sizeof err);
    CHECK(ctx != NULL);
    CHECK(SSL_CTX_get_verify_mode(ctx) == SSL_VERIFY_PEER);
    CHECK(sk_X509_NAME_num(SSL_CTX_get_client_CA_list(ctx)) == 1);
    SSL_CTX_free(ctx);
    o.require_client_cert = 1;
    o.min_version = 13;
    ctx = sl_tls_server_ctx_new(&o, NULL, err, sizeof err);
    CHECK(ctx != NULL);
    CHECK(SSL_CTX_get_verify_mode(ctx) ==
          (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_3_VERSION);
    SSL_CTX_free(ctx);
}

static void test_refusals(void)
{
    sl_tls_server_opts o = opts(NULL, "srv.key");
    refused(&o, "cert", "required", NULL);
    o = opts("srv.pem", NULL);
    refused(&o, "key", "required", NULL);
    o = opts("nope.pem", "srv.key");
    refused(&o, "cert", "cannot be read: No such file", "nope.pem");
    o = opts("adir", "srv.key");
    refused(&o, "cert", "not a regular file", "adir");
    o = opts("fifo", "srv.key"); /* would block a reader for ever */
    refused(&o, "cert", "not a regular file", "fifo");
    o = opts("empty.pem", "srv.key");
    refused(&o, "cert", "not a PEM certificate", "empty.pem");
    o = opts("junk.pem", "srv.key");
    refused(&o, "cert", "not a PEM certificate", "junk.pem");
    o = opts("big.pem", "srv.key");
    refused(&o, "cert", "larger than a PEM file can be", "big.pem");
    o = opts("srv.key", "srv.key"); /* a key where the certificate goes */
    refused(&o, "cert", "not a PEM certificate", "srv.key");
    o = opts("srv.pem", "srv.pem"); /* a certificate where the key goes */
    refused(&o, "key", "not an unencrypted PEM private key", "srv.pem");
    o = opts("srv.pem", "srv.enc"); /* never asks for a passphrase */
    refused(&o, "key", "not an unencrypted PEM private key", "srv.enc");
    o = opts("srv.pem", "other.key");
    refused(&o, "key", "does not match the certificate in", "other.key");
    o = opts("srv.pem", "junk.pem");
    refused(&o, "key", "not an unencrypted PEM private key", "junk.pem");
    o = opts("srv.pem", "srv.key");
    o.require_client_cert = 1;
    refused(&o, "require_client_cert", "needs client_ca", NULL);
    o.client_ca = path_of("junk.pem");
    refused(&o, "client_ca", "not a PEM CA certificate", "junk.pem");
    o.client_ca = path_of("gone.pem");
    refused(&o, "client_ca", "cannot be read", "gone.pem");
    o = opts("srv.pem", "srv.key");
    o.min_version = 11;
    refused(&o, "min_version", "\"1.2\" or \"1.3\"", NULL);
    if (geteuid() != 0) { /* root reads anything */
        CHECK(chmod(path_of("srv.key"), 0) == 0);
        o = opts("srv.pem", "srv.key");
        refused(&o, "key", "Permission denied", "srv.key");
        CHECK(chmod(path_of("srv.key"), 0600) == 0);
    }
}

int main(void)
{
    sl_test_dir_fresh(dir, sizeof dir, "tls-server");
    now = time(NULL);
    make_fixtures();
    static const sl_test_case cases[] = {
        {"good", test_good},
        {"refusals", test_refusals},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
