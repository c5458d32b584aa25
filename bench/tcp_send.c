/* bench/tcp_send.c: NDJSON load for sluice's TCP intake (scripts/bench.sh
 * --tcp). Compiled by bench.sh with the system cc; libc and pthreads only.
 *
 *   tcp_send HOST PORT FILE CONNECTIONS SECONDS [MAX_RECORDS]
 *
 * FILE holds whole NDJSON lines (each ending in '\n'). The file is repeated
 * into one buffer of at least 256 KiB; each of CONNECTIONS threads connects
 * to HOST:PORT and writes that buffer again and again (non-blocking send,
 * poll() for room) until SECONDS have passed or the connections together
 * wrote MAX_RECORDS records (checked per buffer, so every connection stops
 * on a line boundary: whole buffers only). Then it half-closes (shutdown
 * SHUT_WR) and waits for the peer to close: sluice closes once it has taken
 * every line, so the wait ends when everything written was handed to the
 * connector (or 300 s).
 *
 * Time spent in poll() waiting for room is "blocked": the peer was not
 * reading fast enough (TCP back-pressure: sluice stops reading while its
 * queue or spool is full). Stalls of 100 ms or more are counted apart.
 *
 * Prints one line: TCP_JSON {...} (records, bytes, duration_us = start to
 * the last write, blocked_s, stalls, eof_wait_s, errors, per connection).
 * Exit status 0 when every connection wrote and saw the peer's close. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIN_BUF (256u * 1024u)
#define EOF_WAIT_S 300
#define STALL_NS 100000000LL

static const char *host;
static int port;
static char *buf;
static size_t buflen, buflines;
static double seconds;
static uint64_t max_records;        /* 0: no limit */
static atomic_uint_fast64_t total_records;
static int64_t t_start;

typedef struct {
    int idx;
    uint64_t records, bytes;
    int64_t blocked_ns, max_stall_ns, t_last_write, eof_wait_ns;
    uint64_t stalls;
    int err_connect, err_write, err_eof;
    char errmsg[128];
} worker;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* wait_fd: poll for `ev`, adding the time waited to the worker's blocked
 * counters when `count` is set. 0 ready, -1 error/timeout. */
static int wait_fd(worker *w, int fd, short ev, int timeout_ms, int count)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int64_t t0 = now_ns();
    int rc;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    int64_t d = now_ns() - t0;
    if (count) {
        w->blocked_ns += d;
        if (d >= STALL_NS)
            w->stalls++;
        if (d > w->max_stall_ns)
            w->max_stall_ns = d;
    }
    if (rc <= 0)
        return -1;
    return 0;
}

static void *run(void *arg)
{
    worker *w = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        w->err_connect = 1;
        snprintf(w->errmsg, sizeof w->errmsg, "connect: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int64_t deadline = t_start + (int64_t)(seconds * 1e9);
    for (;;) {
        if (now_ns() >= deadline)
            break;
        if (max_records) {
            uint64_t prev = atomic_fetch_add(&total_records, buflines);
            if (prev >= max_records) {
                atomic_fetch_sub(&total_records, buflines);
                break;
            }
        }
        size_t off = 0;
        while (off < buflen) {
            ssize_t n = send(fd, buf + off, buflen - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += (size_t)n;
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (wait_fd(w, fd, POLLOUT, 60000, 1) != 0) {
                    w->err_write = 1;
                    snprintf(w->errmsg, sizeof w->errmsg, "no room to write for 60 s");
                    goto out;
                }
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            w->err_write = 1;
            snprintf(w->errmsg, sizeof w->errmsg, "send: %s", strerror(errno));
            w->bytes += off;  /* partial buffer: records not counted */
            goto out;
        }
        w->bytes += buflen;
        w->records += buflines;
    }
    w->t_last_write = now_ns();
    /* half-close, then wait for sluice to close: it has taken every line */
    shutdown(fd, SHUT_WR);
    {
        int64_t t0 = now_ns();
        char sink[4096];
        for (;;) {
            if (wait_fd(w, fd, POLLIN, EOF_WAIT_S * 1000, 0) != 0) {
                w->err_eof = 1;
                snprintf(w->errmsg, sizeof w->errmsg, "peer did not close within %d s", EOF_WAIT_S);
                break;
            }
            ssize_t n = recv(fd, sink, sizeof sink, 0);
            if (n == 0)
                break;
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n < 0) {
                w->err_eof = 1;
                snprintf(w->errmsg, sizeof w->errmsg, "recv: %s", strerror(errno));
                break;
            }
        }
        w->eof_wait_ns = now_ns() - t0;
    }
out:
    if (!w->t_last_write)
        w->t_last_write = now_ns();
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: tcp_send HOST PORT FILE CONNECTIONS SECONDS [MAX_RECORDS]\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    int nconn = atoi(argv[4]);
    seconds = atof(argv[5]);
    max_records = argc == 7 ? strtoull(argv[6], NULL, 10) : 0;
    if (port <= 0 || nconn <= 0 || nconn > 4096 || seconds <= 0) {
        fprintf(stderr, "tcp_send: bad arguments\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
        perror(argv[3]);
        return 2;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0) {
        fprintf(stderr, "tcp_send: %s is empty\n", argv[3]);
        return 2;
    }
    size_t flen = (size_t)st.st_size;
    char *file = malloc(flen);
    if (!file || fread(file, 1, flen, f) != flen) {
        fprintf(stderr, "tcp_send: cannot read %s\n", argv[3]);
        return 2;
    }
    fclose(f);
    if (file[flen - 1] != '\n') {
        fprintf(stderr, "tcp_send: %s does not end with a newline\n", argv[3]);
        return 2;
    }
    size_t flines = 0;
    for (size_t i = 0; i < flen; i++)
        flines += file[i] == '\n';
    size_t copies = (MIN_BUF + flen - 1) / flen;
    buflen = copies * flen;
    buflines = copies * flines;
    buf = malloc(buflen);
    if (!buf)
        return 2;
    for (size_t i = 0; i < copies; i++)
        memcpy(buf + i * flen, file, flen);

    worker *ws = calloc((size_t)nconn, sizeof *ws);
    pthread_t *th = calloc((size_t)nconn, sizeof *th);
    t_start = now_ns();
    for (int i = 0; i < nconn; i++) {
        ws[i].idx = i;
        if (pthread_create(&th[i], NULL, run, &ws[i]) != 0) {
            fprintf(stderr, "tcp_send: pthread_create failed\n");
            return 2;
        }
    }
    for (int i = 0; i < nconn; i++)
        pthread_join(th[i], NULL);
    int64_t t_end = now_ns();

    uint64_t recs = 0, bytes = 0, stalls = 0;
    int64_t blocked = 0, max_stall = 0, last_write = t_start, eof_wait = 0;
    int ec = 0, ew = 0, ee = 0;
    for (int i = 0; i < nconn; i++) {
        recs += ws[i].records;
        bytes += ws[i].bytes;
        stalls += ws[i].stalls;
        blocked += ws[i].blocked_ns;
        if (ws[i].max_stall_ns > max_stall)
            max_stall = ws[i].max_stall_ns;
        if (ws[i].t_last_write > last_write)
            last_write = ws[i].t_last_write;
        if (ws[i].eof_wait_ns > eof_wait)
            eof_wait = ws[i].eof_wait_ns;
        ec += ws[i].err_connect;
        ew += ws[i].err_write;
        ee += ws[i].err_eof;
        if (ws[i].errmsg[0])
            fprintf(stderr, "tcp_send: connection %d: %s\n", i, ws[i].errmsg);
    }
    double dur = (double)(last_write - t_start) / 1e9;
    fprintf(stderr, "tcp_send: %d connections wrote %llu records (%llu bytes) in %.2f s = %.0f records/s; "
            "blocked %.2f s per connection on average, %llu stalls >= 100 ms (longest %.0f ms); "
            "peer closed %.2f s after the last write\n",
            nconn, (unsigned long long)recs, (unsigned long long)bytes, dur, dur > 0 ? recs / dur : 0,
            (double)blocked / 1e9 / nconn, (unsigned long long)stalls, (double)max_stall / 1e6,
            (double)eof_wait / 1e9);
    printf("TCP_JSON {\"connections\":%d,\"records\":%llu,\"bytes\":%llu,\"duration_us\":%lld,"
           "\"total_us\":%lld,\"blocked_s_sum\":%.3f,\"stalls_100ms\":%llu,\"max_stall_ms\":%.1f,"
           "\"eof_wait_s\":%.3f,\"records_per_buffer\":%zu,\"buffer_bytes\":%zu,"
           "\"errors\":{\"connect\":%d,\"write\":%d,\"eof\":%d},\"per_connection\":[",
           nconn, (unsigned long long)recs, (unsigned long long)bytes,
           (long long)((last_write - t_start) / 1000), (long long)((t_end - t_start) / 1000),
           (double)blocked / 1e9, (unsigned long long)stalls, (double)max_stall / 1e6,
           (double)eof_wait / 1e9, buflines, buflen, ec, ew, ee);
    for (int i = 0; i < nconn; i++)
        printf("%s{\"records\":%llu,\"blocked_s\":%.3f,\"stalls_100ms\":%llu}", i ? "," : "",
               (unsigned long long)ws[i].records, (double)ws[i].blocked_ns / 1e9,
               (unsigned long long)ws[i].stalls);
    printf("]}\n");
    return ec || ew || ee ? 1 : 0;
}
