/* sl_tlsio: read()/write() or SSL_read/SSL_write on a non-blocking
 * socket, with OpenSSL's WANT_READ/WANT_WRITE turned into "again". */
#include "sl_tlsio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

struct sl_tlsio {
    int fd;
    SSL *ssl;          /* NULL: plain */
    int done;          /* handshake done (always when plain) */
    int wants_write;   /* the last AGAIN waits for writability */
    int held;          /* an end (1) or error (SL_TLSIO_ERROR) found after
                          bytes that a read returned: the next read's */
    char error[160];
};

sl_tlsio *sl_tlsio_new(int fd, SSL_CTX *ctx)
{
    sl_tlsio *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->fd = fd;
    io->done = ctx == NULL;
    if (!ctx)
        return io;
    if (!(io->ssl = SSL_new(ctx)) || SSL_set_fd(io->ssl, fd) != 1) {
        ERR_clear_error();
        SSL_free(io->ssl);
        free(io);
        return NULL;
    }
    SSL_set_accept_state(io->ssl);
    return io;
}

int sl_tlsio_handshaking(const sl_tlsio *io) { return !io->done; }

int sl_tlsio_wants_write(const sl_tlsio *io) { return io->wants_write; }

const char *sl_tlsio_error(const sl_tlsio *io) { return io->error; }

int sl_tlsio_ready(const sl_tlsio *io)
{
    return io->held != 0 || sl_tlsio_pending(io) > 0;
}

size_t sl_tlsio_pending(const sl_tlsio *io)
{
    int n = io->ssl && io->done ? SSL_pending(io->ssl) : 0;
    return n > 0 ? (size_t)n : 0;
}

/* What OpenSSL's result `rc` of the last call means: SL_TLSIO_AGAIN,
 * 0 (the end of the stream) or SL_TLSIO_ERROR with the reason kept. */
static int ssl_outcome(sl_tlsio *io, int rc)
{
    int e = SSL_get_error(io->ssl, rc);
    unsigned long code;
    io->wants_write = 0;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return SL_TLSIO_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        io->wants_write = 1;
        return SL_TLSIO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return SL_TLSIO_AGAIN;
        snprintf(io->error, sizeof io->error, "%s",
                 errno ? strerror(errno) : "the peer closed the connection");
        ERR_clear_error();
        return SL_TLSIO_ERROR;
    default:
        code = ERR_peek_last_error();
        snprintf(io->error, sizeof io->error, "%s",
                 code && ERR_reason_error_string(code)
                     ? ERR_reason_error_string(code) : "TLS error");
        ERR_clear_error();
        return SL_TLSIO_ERROR;
    }
}

int sl_tlsio_handshake(sl_tlsio *io)
{
    if (io->done)
        return 0;
    errno = 0;
    int rc = SSL_do_handshake(io->ssl);
    if (rc == 1) {
        io->done = 1;
        io->wants_write = 0;
        return 0;
    }
    int st = ssl_outcome(io, rc);
    if (st == 0) { /* closed before the handshake was done */
        snprintf(io->error, sizeof io->error, "the client closed the "
                 "connection during the handshake");
        st = SL_TLSIO_ERROR;
    }
    return st;
}

static ssize_t plain_outcome(sl_tlsio *io, ssize_t n)
{
    io->wants_write = 0;
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return SL_TLSIO_AGAIN;
    snprintf(io->error, sizeof io->error, "%s", strerror(errno));
    return SL_TLSIO_ERROR;
}

ssize_t sl_tlsio_read(sl_tlsio *io, void *buf, size_t n)
{
    if (!io->ssl)
        return plain_outcome(io, read(io->fd, buf, n));
    if (io->held) {
        ssize_t st = io->held == 1 ? 0 : SL_TLSIO_ERROR;
        io->held = 0;
        return st;
    }
    if (!io->done) {
        int st = sl_tlsio_handshake(io);
        if (st != 0)
            return st;
    }
    /* one SSL_read returns one record (16 KiB at most): read on while
     * there is room, so that a read costs one wakeup as when plain */
    size_t got = 0;
    while (got < n) {
        size_t k = 0;
        errno = 0;
        int rc = SSL_read_ex(io->ssl, (char *)buf + got, n - got, &k);
        if (rc == 1) {
            got += k;
            continue;
        }
        int st = ssl_outcome(io, rc);
        if (got == 0)
            return st;
        /* the bytes first; an end or error is the next read's, which no
         * readiness of the socket may announce (the close_notify has been
         * read): sl_tlsio_ready says so */
        if (st == 0)
            io->held = 1;
        else if (st == SL_TLSIO_ERROR)
            io->held = SL_TLSIO_ERROR;
        break;
    }
    io->wants_write = 0;
    return (ssize_t)got;
}

ssize_t sl_tlsio_write(sl_tlsio *io, const void *buf, size_t n)
{
    if (!io->ssl)
        return plain_outcome(io, write(io->fd, buf, n));
    if (!io->done) {
        int st = sl_tlsio_handshake(io);
        if (st != 0)
            return st;
    }
    size_t k = 0;
    errno = 0;
    int rc = SSL_write_ex(io->ssl, buf, n, &k);
    if (rc == 1) {
        io->wants_write = 0;
        return (ssize_t)k;
    }
    int st = ssl_outcome(io, rc);
    return st == 0 ? SL_TLSIO_ERROR : st;
}

void sl_tlsio_free(sl_tlsio *io)
{
    if (!io)
        return;
    if (io->ssl) {
        if (io->done)
            SSL_shutdown(io->ssl); /* close_notify, if the socket takes it */
        ERR_clear_error();
        SSL_free(io->ssl);
    }
    free(io);
}
