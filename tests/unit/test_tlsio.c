/* Unit tests for sl_tlsio over a socketpair, the client an OpenSSL
 * client on the other end, both non-blocking and pumped by turns: plain
 * reads, writes and end; the TLS handshake (again, then done), a read that
 * drains several records, bytes left pending in OpenSSL, writes that fill
 * the socket (again, then the rest), the end with and without
 * close_notify; and hostile peers: plain text, garbage, a ClientHello cut
 * short and then closed, a client without the certificate required. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sl_test.h"
#include "sl_test_dir.h"
#include "sl_test_tls.h"
#include "sl_tls_server.h"
#include "sl_tlsio.h"

static char dir[256];

static const char *path_of(const char *name)
{
    return sl_test_path_in(dir, name);
}

static void make_fixtures(void)
{
    EVP_PKEY *k = sl_test_tls_key();
    X509 *x = sl_test_tls_cert(k, "localhost", -1, 30, time(NULL));
    sl_test_tls_write_cert(path_of("srv.pem"), x, 0);
    sl_test_tls_write_key(path_of("srv.key"), k, NULL);
    X509_free(x);
    EVP_PKEY_free(k);
}

typedef struct pair {
    int sfd, cfd;      /* server's and client's ends */
    sl_tlsio *io;      /* the server's */
    SSL_CTX *sctx, *cctx;
    SSL *cssl;         /* the client's; NULL when the client is raw */
} pair;

static void nonblocking(int fd)
{
    CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
}

/* A pair; tls: the server speaks TLS (with client_ca: requiring a client
 * certificate of that CA), client: the other end is an OpenSSL client. */
static pair open_pair(int tls, int client, const char *client_ca)
{
    pair p;
    memset(&p, 0, sizeof p);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    p.sfd = sv[0];
    p.cfd = sv[1];
    nonblocking(p.sfd);
    nonblocking(p.cfd);
    if (tls) {
        sl_tls_server_opts o = {.cert = path_of("srv.pem"),
                                .key = path_of("srv.key"),
                                .client_ca = client_ca,
                                .require_client_cert = client_ca != NULL};
        char err[256];
        p.sctx = sl_tls_server_ctx_new(&o, NULL, err, sizeof err);
        CHECK(p.sctx != NULL);
    }
    p.io = sl_tlsio_new(p.sfd, p.sctx);
    CHECK(p.io != NULL);
    if (client) {
        p.cctx = SSL_CTX_new(TLS_client_method());
        CHECK(SSL_CTX_load_verify_locations(p.cctx, path_of("srv.pem"),
                                            NULL) == 1);
        SSL_CTX_set_verify(p.cctx, SSL_VERIFY_PEER, NULL);
        p.cssl = SSL_new(p.cctx);
        SSL_set_fd(p.cssl, p.cfd);
        SSL_set_tlsext_host_name(p.cssl, "localhost");
        SSL_set_connect_state(p.cssl);
    }
    return p;
}

static void close_pair(pair *p)
{
    sl_tlsio_free(p->io);
    SSL_free(p->cssl);
    SSL_CTX_free(p->cctx);
    SSL_CTX_free(p->sctx);
    if (p->sfd >= 0)
        close(p->sfd);
    if (p->cfd >= 0)
        close(p->cfd);
    ERR_clear_error();
}

/* Both sides' handshakes by turns until the server's is done or fails:
 * its last result. */
static int handshake(pair *p)
{
    int st = SL_TLSIO_AGAIN;
    for (int i = 0; i < 100 && st == SL_TLSIO_AGAIN; i++) {
        if (p->cssl)
            SSL_do_handshake(p->cssl);
        st = sl_tlsio_handshake(p->io);
    }
    return st;
}

/* Client side: write all of buf (pumping the server's reads into got). */
static void client_write(pair *p, const char *buf, size_t n)
{
    size_t off = 0;
    for (int i = 0; off < n && i < 100000; i++) {
        size_t k = 0;
        if (SSL_write_ex(p->cssl, buf + off, n - off, &k) == 1)
            off += k;
        else
            break;
    }
    CHECK(off == n);
}

/* Server side: read until `want` bytes or the end; returns the count. */
static size_t server_read(pair *p, char *out, size_t want, size_t chunk,
                          int *eof)
{
    size_t got = 0;
    *eof = 0;
    for (int i = 0; got < want && i < 100000; i++) {
        size_t room = want - got < chunk ? want - got : chunk;
        ssize_t n = sl_tlsio_read(p->io, out + got, room);
        if (n > 0) {
            got += (size_t)n;
        } else if (n == 0) {
            *eof = 1;
            break;
        } else if (n == SL_TLSIO_AGAIN) {
            if (p->cssl)
                SSL_do_handshake(p->cssl); /* lets the client move on */
            if (i > 1000)
                break;
        } else {
            break;
        }
    }
    return got;
}

static void test_plain(void)
{
    pair p = open_pair(0, 0, NULL);
    CHECK(!sl_tlsio_handshaking(p.io));
    CHECK(sl_tlsio_handshake(p.io) == 0);
    char buf[64];
    CHECK(sl_tlsio_read(p.io, buf, sizeof buf) == SL_TLSIO_AGAIN);
    CHECK(write(p.cfd, "hello\n", 6) == 6);
    CHECK(sl_tlsio_read(p.io, buf, sizeof buf) == 6);
    CHECK(memcmp(buf, "hello\n", 6) == 0);
    CHECK(sl_tlsio_write(p.io, "ok\n", 3) == 3);
    CHECK(read(p.cfd, buf, sizeof buf) == 3);
    CHECK(sl_tlsio_pending(p.io) == 0);
    close(p.cfd);
    p.cfd = -1;
    CHECK(sl_tlsio_read(p.io, buf, sizeof buf) == 0);
    close_pair(&p);
}

static void test_tls_lines_and_end(void)
{
    pair p = open_pair(1, 1, NULL);
    CHECK(sl_tlsio_handshaking(p.io));
    char buf[64];
    CHECK(sl_tlsio_read(p.io, buf, sizeof buf) == SL_TLSIO_AGAIN);
    CHECK(!sl_tlsio_wants_write(p.io));
    CHECK(handshake(&p) == 0);
    CHECK(!sl_tlsio_handshaking(p.io));
    SSL_do_handshake(p.cssl); /* the client sees the server's Finished */
    /* 100 KiB: several records, drained by one read when it has room */
    size_t n = 100 * 1024;
    char *data = malloc(n), *got = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    client_write(&p, data, n);
    int eof;
    CHECK(server_read(&p, got, n, n, &eof) == n);
    CHECK(memcmp(got, data, n) == 0);
    /* a small read leaves the rest of a record in OpenSSL: pending says */
    client_write(&p, data, 1000);
    size_t first = server_read(&p, got, 10, 10, &eof);
    CHECK(first == 10);
    CHECK(sl_tlsio_pending(p.io) == 990);
    CHECK(server_read(&p, got + 10, 990, 990, &eof) == 990);
    CHECK(memcmp(got, data, 1000) == 0);
    CHECK(sl_tlsio_pending(p.io) == 0);
    /* the server's answers reach the client */
    CHECK(sl_tlsio_write(p.io, "ok\n", 3) == 3);
    char ans[16];
    size_t k = 0;
    CHECK(SSL_read_ex(p.cssl, ans, sizeof ans, &k) == 1 && k == 3);
    /* close_notify: the end of the stream */
    SSL_shutdown(p.cssl);
    CHECK(server_read(&p, got, 10, 10, &eof) == 0);
    CHECK(eof);
    free(data);
    free(got);
    close_pair(&p);
}

static void test_tls_end_without_close_notify(void)
{
    pair p = open_pair(1, 1, NULL);
    CHECK(handshake(&p) == 0);
    SSL_do_handshake(p.cssl);
    client_write(&p, "last line", 9);
    close(p.cfd); /* no close_notify: still an end, the bytes before kept */
    p.cfd = -1;
    char got[32];
    int eof;
    CHECK(server_read(&p, got, sizeof got, sizeof got, &eof) == 9);
    CHECK(memcmp(got, "last line", 9) == 0);
    CHECK(server_read(&p, got, sizeof got, sizeof got, &eof) == 0);
    CHECK(eof);
    close_pair(&p);
}

/* The data and the close_notify arrive together: the read that returns
 * the data has taken the end from the socket too, so no readiness will
 * come for it; ready says to read again. */
static void test_tls_end_behind_the_data(void)
{
    pair p = open_pair(1, 1, NULL);
    CHECK(handshake(&p) == 0);
    SSL_do_handshake(p.cssl);
    client_write(&p, "a line\n", 7);
    SSL_shutdown(p.cssl);
    char got[64];
    CHECK(sl_tlsio_read(p.io, got, sizeof got) == 7);
    CHECK(sl_tlsio_ready(p.io));
    CHECK(sl_tlsio_read(p.io, got, sizeof got) == 0);
    CHECK(!sl_tlsio_ready(p.io));
    close_pair(&p);
}

static void test_tls_write_fills_the_socket(void)
{
    pair p = open_pair(1, 1, NULL);
    CHECK(handshake(&p) == 0);
    SSL_do_handshake(p.cssl);
    size_t n = 4 << 20, off = 0;
    char *data = calloc(1, n);
    int again = 0;
    while (off < n) {
        ssize_t w = sl_tlsio_write(p.io, data + off, n - off);
        if (w == SL_TLSIO_AGAIN) {
            again = 1;
            CHECK(sl_tlsio_wants_write(p.io));
            break;
        }
        CHECK(w > 0);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    CHECK(again); /* 4 MiB do not fit a socketpair's buffers */
    /* the client reads some; the rest goes, the buffer offered again
     * (partial writes and a moving buffer are allowed) */
    char *sink = malloc(1 << 16);
    size_t total = 0;
    for (int i = 0; i < 100000 && total < n; i++) {
        size_t k = 0;
        while (SSL_read_ex(p.cssl, sink, 1 << 16, &k) == 1)
            total += k;
        if (off < n) {
            ssize_t w = sl_tlsio_write(p.io, data + off, n - off);
            if (w > 0)
                off += (size_t)w;
            else
                CHECK(w == SL_TLSIO_AGAIN);
        }
    }
    CHECK(off == n);
    CHECK(total == n);
    free(sink);
    free(data);
    close_pair(&p);
}

static void test_hostile_peers(void)
{
    /* plain HTTP to a TLS server */
    pair p = open_pair(1, 0, NULL);
    const char *req = "POST /v1/connectors/x/records HTTP/1.1\r\n\r\n";
    CHECK(write(p.cfd, req, strlen(req)) == (ssize_t)strlen(req));
    CHECK(sl_tlsio_handshake(p.io) == SL_TLSIO_ERROR);
    CHECK_CONTAINS(sl_tlsio_error(p.io), "http request");
    char buf[64];
    CHECK(sl_tlsio_read(p.io, buf, sizeof buf) == SL_TLSIO_ERROR);
    close_pair(&p);
    /* garbage */
    p = open_pair(1, 0, NULL);
    char junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 37 + 11);
    CHECK(write(p.cfd, junk, sizeof junk) == (ssize_t)sizeof junk);
    CHECK(sl_tlsio_handshake(p.io) == SL_TLSIO_ERROR);
    CHECK(sl_tlsio_error(p.io)[0] != '\0');
    close_pair(&p);
    /* a ClientHello cut short: waits (the caller's clock closes it);
     * then the peer goes */
    p = open_pair(1, 1, NULL);
    SSL_do_handshake(p.cssl); /* the hello is now in the socket */
    char hello[4096];
    ssize_t hn = read(p.sfd, hello, sizeof hello); /* take it out... */
    CHECK(hn > 20);
    sl_tlsio_free(p.io);
    p.io = sl_tlsio_new(p.sfd, p.sctx);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    nonblocking(sv[0]);
    sl_tlsio *io = sl_tlsio_new(sv[0], p.sctx);
    CHECK(write(sv[1], hello, 20) == 20); /* ...and send 20 bytes of it */
    CHECK(sl_tlsio_handshake(io) == SL_TLSIO_AGAIN);
    CHECK(sl_tlsio_handshake(io) == SL_TLSIO_AGAIN);
    CHECK(sl_tlsio_handshaking(io));
    close(sv[1]);
    CHECK(sl_tlsio_handshake(io) == SL_TLSIO_ERROR);
    sl_tlsio_free(io);
    close(sv[0]);
    close_pair(&p);
    /* a client without the certificate required */
    p = open_pair(1, 1, path_of("srv.pem"));
    CHECK(handshake(&p) == SL_TLSIO_ERROR);
    CHECK_CONTAINS(sl_tlsio_error(p.io), "certificate");
    close_pair(&p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the gateway: a gone peer is an error */
    sl_test_dir_fresh(dir, sizeof dir, "tlsio");
    make_fixtures();
    static const sl_test_case cases[] = {
        {"plain", test_plain},
        {"tls_lines_and_end", test_tls_lines_and_end},
        {"tls_end_without_close_notify", test_tls_end_without_close_notify},
        {"tls_end_behind_the_data", test_tls_end_behind_the_data},
        {"tls_write_fills_the_socket", test_tls_write_fills_the_socket},
        {"hostile_peers", test_hostile_peers},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
