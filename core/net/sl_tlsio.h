/* sl_tlsio: reading and writing one accepted, non-blocking socket, plainly
 * or through TLS (OpenSSL, server side), behind one small interface, so
 * that a raw-socket intake (sl_intake_tcp) is the same code either way.
 * With TLS, the handshake comes first (sl_tlsio_handshake until it is
 * done), and a read or a write may have to wait for the socket to be
 * writable or readable the other way round (sl_tlsio_wants_write). */
#ifndef SL_TLSIO_H
#define SL_TLSIO_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

typedef struct sl_tlsio sl_tlsio;

enum {
    SL_TLSIO_ERROR = -1, /* the connection is broken (sl_tlsio_error) */
    SL_TLSIO_AGAIN = -2  /* nothing now: wait for the socket to be readable,
                            or writable when sl_tlsio_wants_write */
};

/* I/O on fd (borrowed: the caller closes it after sl_tlsio_free), plain
 * when ctx is NULL, else TLS accepting with an SSL of ctx (which must
 * outlive it). NULL when out of memory. */
sl_tlsio *sl_tlsio_new(int fd, SSL_CTX *ctx);

/* Whether the TLS handshake is still to be done (0 when plain). */
int sl_tlsio_handshaking(const sl_tlsio *io);

/* Take the handshake as far as the socket allows: 0 once it is done
 * (at once when plain), SL_TLSIO_AGAIN, or SL_TLSIO_ERROR. */
int sl_tlsio_handshake(sl_tlsio *io);

/* Read up to n bytes into buf (with TLS, as many records as there are
 * and fit). Returns the count (> 0), 0 at the end of the stream (the peer
 * closed, with or without close_notify), SL_TLSIO_AGAIN or
 * SL_TLSIO_ERROR. */
ssize_t sl_tlsio_read(sl_tlsio *io, void *buf, size_t n);

/* Write up to n bytes of buf; returns the count taken (> 0),
 * SL_TLSIO_AGAIN or SL_TLSIO_ERROR. After AGAIN, the same bytes (or more,
 * starting with them) must be offered again; the buffer may move. */
ssize_t sl_tlsio_write(sl_tlsio *io, const void *buf, size_t n);

/* Whether the last SL_TLSIO_AGAIN waits for the socket to be writable
 * (rather than readable). */
int sl_tlsio_wants_write(const sl_tlsio *io);

/* Bytes already read from the socket and decrypted, not yet returned by
 * sl_tlsio_read: the socket will not say it is readable for them. */
size_t sl_tlsio_pending(const sl_tlsio *io);

/* Whether a read would return without the socket becoming readable:
 * bytes pending, or the end of the stream or an error found after the
 * bytes the last read returned. A caller driven by readiness reads again
 * at once when it is. */
int sl_tlsio_ready(const sl_tlsio *io);

/* Why the last SL_TLSIO_ERROR (OpenSSL's reason, or the system's). */
const char *sl_tlsio_error(const sl_tlsio *io);

/* Send close_notify if the handshake was done (best effort, never
 * waits) and free. Accepts NULL; the socket is left open. */
void sl_tlsio_free(sl_tlsio *io);

#endif
