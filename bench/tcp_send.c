/* bench/tcp_send.c: NDJSON load for sluice's TCP intake (scripts/bench.sh
 * --tcp). Compiled by bench.sh with the system cc; libc and pthreads only.
 *
 *   tcp_send [--ack] [--rate N] HOST PORT FILE CONNECTIONS SECONDS [MAX_RECORDS]
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
 * --rate N holds the connections together at N records/s (each at N /
 * CONNECTIONS, on a schedule from the start: a connection that fell behind
 * catches up), writing whole lines and stopping at SECONDS on a line.
 *
 * --ack reads the listener's answers (ack = true: one line per line sent,
 * in order, "ok" or "error {...}"), matches each to its line and measures
 * the latency from the write of the line's last byte to the answer
 * (histogram: exact below 128 us, then 1.6 % wide buckets). At most 65,536
 * lines of a connection wait for their answer; past that it waits for
 * answers (window_wait_s_sum, not counted as blocked: blocked is waiting
 * for room in the socket). Every line must be answered "ok" before the
 * close.
 *
 * Prints one line: TCP_JSON {...} (records, bytes, duration_us = start to
 * the last write, blocked_s, stalls, eof_wait_s, errors, rate_offered,
 * with --ack "ack": answers, ok, error, unexpected, missing, latency_us,
 * first_error; per connection). Exit status 0 when every connection wrote
 * and saw the peer's close and, with --ack, every line was answered ok. */
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
#define ACK_WINDOW 65536u      /* lines written and not yet answered, at most */
#define ANSWER_MAX 4096        /* bytes of one answer line kept (longer: cut) */
#define H_SUB 64               /* latency histogram: 64 steps per power of 2 */
#define H_BUCKETS (H_SUB * 42)

static const char *host;
static int port;
static char *buf;
static size_t buflen, buflines;
static size_t *lineend;             /* offset after each '\n' of buf */
static double seconds;
static uint64_t max_records;        /* 0: no limit */
static int ack;                     /* --ack: read one answer per line */
static double rate_per_conn;        /* --rate / connections; 0: no limit */
static atomic_uint_fast64_t total_records;
static int64_t t_start;

typedef struct {
    int idx;
    uint64_t records, bytes;
    int64_t blocked_ns, max_stall_ns, t_last_write, eof_wait_ns;
    uint64_t stalls;
    int err_connect, err_write, err_eof;
    char errmsg[128];
    /* --ack */
    int64_t *ts;                    /* write time of line i at [i % ACK_WINDOW] */
    int64_t window_ns;              /* waiting with ACK_WINDOW lines unanswered */
    uint64_t answers, ok, errors, unexpected;
    uint64_t hist[H_BUCKETS];       /* answer latency, microseconds */
    uint64_t lat_sum_us, lat_max_us;
    char ans[ANSWER_MAX];
    size_t anslen;
    int ans_cut;
    char first_error[256];
} worker;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Log-linear buckets: exact below 128 us, then 64 per power of two (a
 * bucket is at most 1/64 = 1.6 % wide). */
static int h_index(uint64_t us)
{
    if (us < 2 * H_SUB)
        return (int)us;
    if (us >= (1ull << 40))
        us = (1ull << 40) - 1;
    int shift = 63 - __builtin_clzll(us) - 6;
    return shift * H_SUB + (int)(us >> shift);
}

static uint64_t h_value(int i)
{
    if (i < 2 * H_SUB)
        return (uint64_t)i;
    int shift = i / H_SUB - 1;
    uint64_t m = (uint64_t)(i - shift * H_SUB);
    return (m << shift) + ((1ull << shift) >> 1);
}

/* one whole answer line in w->ans: match it to the oldest line unanswered */
static void answer(worker *w, int64_t t)
{
    uint64_t k = w->answers++;
    if (k >= w->records) {
        w->unexpected++;
        return;
    }
    int64_t d = t - w->ts[k % ACK_WINDOW];
    uint64_t us = d > 0 ? (uint64_t)d / 1000u : 0;
    w->hist[h_index(us)]++;
    w->lat_sum_us += us;
    if (us > w->lat_max_us)
        w->lat_max_us = us;
    if (w->anslen == 2 && memcmp(w->ans, "ok", 2) == 0 && !w->ans_cut) {
        w->ok++;
        return;
    }
    if (w->anslen >= 5 && memcmp(w->ans, "error", 5) == 0)
        w->errors++;
    else
        w->unexpected++;
    if (!w->first_error[0]) {
        size_t n = w->anslen < sizeof w->first_error - 1 ? w->anslen : sizeof w->first_error - 1;
        memcpy(w->first_error, w->ans, n);
        w->first_error[n] = 0;
    }
}

/* read what the peer sent: answers with --ack, else thrown away.
 * 1 at EOF, 0 more may come, -1 error (errmsg set). */
static int read_answers(worker *w, int fd)
{
    char in[65536];
    for (;;) {
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n == 0)
            return 1;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(w->errmsg, sizeof w->errmsg, "recv: %s", strerror(errno));
            return -1;
        }
        if (!ack)
            continue;
        int64_t t = now_ns();
        for (ssize_t i = 0; i < n; i++) {
            if (in[i] == '\n') {
                answer(w, t);
                w->anslen = 0;
                w->ans_cut = 0;
            } else if (w->anslen < sizeof w->ans) {
                w->ans[w->anslen++] = in[i];
            } else {
                w->ans_cut = 1;
            }
        }
    }
}

/* wait_fd: poll for `ev`, adding the time waited to the worker's blocked
 * counters when `count` is 1, to the ack window's wait when it is 2. The
 * events seen, 0 on timeout, -1 error. */
static int wait_fd(worker *w, int fd, short ev, int timeout_ms, int count)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int64_t t0 = now_ns();
    int rc;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    int64_t d = now_ns() - t0;
    if (count == 2)
        w->window_ns += d;
    if (count == 1) {
        w->blocked_ns += d;
        if (d >= STALL_NS)
            w->stalls++;
        if (d > w->max_stall_ns)
            w->max_stall_ns = d;
    }
    if (rc < 0)
        return -1;
    return rc == 0 ? 0 : p.revents;
}

/* lines this connection may have written by now: all of them without
 * --rate, else its share of the rate since the start (the first at once) */
static uint64_t lines_allowed(int64_t t)
{
    if (rate_per_conn <= 0)
        return UINT64_MAX;
    return (uint64_t)((double)(t - t_start) / 1e9 * rate_per_conn) + 1;
}

/* ms until the next line is allowed (at least 1) */
static int ms_to_next_line(uint64_t sent)
{
    double at = (double)sent / rate_per_conn * 1e9 + (double)t_start;
    double ms = (at - (double)now_ns()) / 1e6;
    return ms < 1 ? 1 : ms > 1000 ? 1000 : (int)ms;
}

/* write one buffer's lines from line `li` on as room, the rate and the ack
 * window allow; 0 when the buffer is written (or the deadline passed with
 * --rate), -1 on error (errmsg set). */
static int write_buffer(worker *w, int fd, int64_t deadline)
{
    size_t li = 0, off = 0;
    while (li < buflines) {
        int64_t t = now_ns();
        if (rate_per_conn > 0 && t >= deadline)
            return 0;
        uint64_t allow = lines_allowed(t);
        uint64_t room = allow > w->records ? allow - w->records : 0;
        if (ack) {
            uint64_t out = w->records - (w->answers < w->records ? w->answers : w->records);
            uint64_t win = ACK_WINDOW - out;
            if (win < room)
                room = win;
        }
        if (room > buflines - li)
            room = buflines - li;
        if (room > 0) {
            size_t lim = lineend[li + room - 1];
            ssize_t n = send(fd, buf + off, lim - off, MSG_NOSIGNAL);
            if (n > 0) {
                off += (size_t)n;
                w->bytes += (size_t)n;
                int64_t tw = ack ? now_ns() : 0;
                while (li < buflines && lineend[li] <= off) {
                    if (ack)
                        w->ts[w->records % ACK_WINDOW] = tw;
                    w->records++;
                    li++;
                }
                if (!ack)
                    continue;
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                snprintf(w->errmsg, sizeof w->errmsg, "send: %s", strerror(errno));
                return -1;
            }
        }
        /* wait: for room (blocked), for answers, or for the rate's next line */
        int rate_wait = room == 0 && allow <= w->records;
        short ev = (short)((room > 0 ? POLLOUT : 0) | (ack ? POLLIN : 0));
        int timeout = rate_wait ? ms_to_next_line(w->records) : 60000;
        if (room > 0 && ack) {
            /* answers waiting? read them before writing more */
            struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
            if (poll(&p, 1, 0) > 0 && (p.revents & POLLOUT) && !(p.revents & POLLIN))
                continue;
        }
        int rc = 0;
        if (ev)
            rc = wait_fd(w, fd, ev, timeout, rate_wait ? 0 : room > 0 ? 1 : 2);
        else
            usleep((useconds_t)timeout * 1000u);
        if (rc < 0) {
            snprintf(w->errmsg, sizeof w->errmsg, "poll: %s", strerror(errno));
            return -1;
        }
        if (rc == 0 && !rate_wait) {
            snprintf(w->errmsg, sizeof w->errmsg, room > 0 ? "no room to write for 60 s"
                     : "no answer for 60 s with %u lines unanswered", ACK_WINDOW);
            return -1;
        }
        if (rc & (POLLIN | POLLERR | POLLHUP)) {
            int e = read_answers(w, fd);
            if (e != 0) {
                if (e > 0)
                    snprintf(w->errmsg, sizeof w->errmsg, "the peer closed while we were writing");
                return -1;
            }
        }
    }
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
        if (write_buffer(w, fd, deadline) != 0) {
            w->err_write = 1;
            goto out;
        }
    }
    w->t_last_write = now_ns();
    /* half-close, then wait for sluice to close: it has taken every line
     * (and with --ack answered each) */
    shutdown(fd, SHUT_WR);
    {
        int64_t t0 = now_ns();
        for (;;) {
            int rc = wait_fd(w, fd, POLLIN, EOF_WAIT_S * 1000, 0);
            if (rc <= 0) {
                w->err_eof = 1;
                snprintf(w->errmsg, sizeof w->errmsg, "peer did not close within %d s", EOF_WAIT_S);
                break;
            }
            int e = read_answers(w, fd);
            if (e > 0)
                break;
            if (e < 0) {
                w->err_eof = 1;
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

/* p-th percentile (0..100) of the merged histogram, in microseconds */
static uint64_t h_percentile(const uint64_t *h, uint64_t n, double p)
{
    uint64_t want = (uint64_t)(p / 100.0 * (double)n + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (int i = 0; i < H_BUCKETS; i++) {
        seen += h[i];
        if (seen >= want)
            return h_value(i);
    }
    return 0;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void usage(void)
{
    fprintf(stderr, "usage: tcp_send [--ack] [--rate RECORDS_PER_S] HOST PORT FILE CONNECTIONS SECONDS "
            "[MAX_RECORDS]\n");
}

int main(int argc, char **argv)
{
    double rate = 0;
    int a = 1;
    for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
        if (strcmp(argv[a], "--ack") == 0) {
            ack = 1;
        } else if (strcmp(argv[a], "--rate") == 0 && a + 1 < argc) {
            char *end;
            rate = strtod(argv[++a], &end);
            if (*end || !(rate > 0)) {
                fprintf(stderr, "tcp_send: --rate needs a positive number of records/s\n");
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    argc -= a - 1;
    argv += a - 1;
    if (argc < 6 || argc > 7) {
        usage();
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
    rate_per_conn = rate / nconn;
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
    lineend = malloc(buflines * sizeof *lineend);
    if (!buf || !lineend)
        return 2;
    for (size_t i = 0; i < copies; i++)
        memcpy(buf + i * flen, file, flen);
    for (size_t i = 0, l = 0; i < buflen; i++)
        if (buf[i] == '\n')
            lineend[l++] = i + 1;

    worker *ws = calloc((size_t)nconn, sizeof *ws);
    pthread_t *th = calloc((size_t)nconn, sizeof *th);
    if (!ws || !th)
        return 2;
    for (int i = 0; i < nconn && ack; i++)
        if (!(ws[i].ts = calloc(ACK_WINDOW, sizeof *ws[i].ts)))
            return 2;
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
    static uint64_t hist[H_BUCKETS];
    uint64_t answers = 0, oks = 0, errs = 0, unexpected = 0, lat_sum = 0, lat_max = 0;
    int64_t window = 0;
    const char *first_error = "";
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
        answers += ws[i].answers;
        oks += ws[i].ok;
        errs += ws[i].errors;
        unexpected += ws[i].unexpected;
        lat_sum += ws[i].lat_sum_us;
        window += ws[i].window_ns;
        if (ws[i].lat_max_us > lat_max)
            lat_max = ws[i].lat_max_us;
        for (int b = 0; b < H_BUCKETS; b++)
            hist[b] += ws[i].hist[b];
        if (!first_error[0] && ws[i].first_error[0])
            first_error = ws[i].first_error;
    }
    uint64_t answered = oks + errs + unexpected;
    uint64_t missing = ack && recs > answers ? recs - answers : 0;
    double dur = (double)(last_write - t_start) / 1e9;
    fprintf(stderr, "tcp_send: %d connections wrote %llu records (%llu bytes) in %.2f s = %.0f records/s; "
            "blocked %.2f s per connection on average, %llu stalls >= 100 ms (longest %.0f ms); "
            "peer closed %.2f s after the last write\n",
            nconn, (unsigned long long)recs, (unsigned long long)bytes, dur, dur > 0 ? recs / dur : 0,
            (double)blocked / 1e9 / nconn, (unsigned long long)stalls, (double)max_stall / 1e6,
            (double)eof_wait / 1e9);
    if (rate > 0)
        fprintf(stderr, "tcp_send: rate offered %.0f records/s, reached %.0f\n", rate, dur > 0 ? recs / dur : 0);
    if (ack)
        fprintf(stderr, "tcp_send: answers %llu ok, %llu error, %llu unexpected, %llu missing; latency "
                "write -> answer p50 %.3f ms, p99 %.3f ms, max %.3f ms%s%s\n",
                (unsigned long long)oks, (unsigned long long)errs, (unsigned long long)unexpected,
                (unsigned long long)missing, h_percentile(hist, answered, 50) / 1e3,
                h_percentile(hist, answered, 99) / 1e3, lat_max / 1e3,
                first_error[0] ? "; first error: " : "", first_error);
    printf("TCP_JSON {\"connections\":%d,\"records\":%llu,\"bytes\":%llu,\"duration_us\":%lld,"
           "\"total_us\":%lld,\"blocked_s_sum\":%.3f,\"stalls_100ms\":%llu,\"max_stall_ms\":%.1f,"
           "\"eof_wait_s\":%.3f,\"records_per_buffer\":%zu,\"buffer_bytes\":%zu,\"rate_offered\":%.0f,"
           "\"errors\":{\"connect\":%d,\"write\":%d,\"eof\":%d},",
           nconn, (unsigned long long)recs, (unsigned long long)bytes,
           (long long)((last_write - t_start) / 1000), (long long)((t_end - t_start) / 1000),
           (double)blocked / 1e9, (unsigned long long)stalls, (double)max_stall / 1e6,
           (double)eof_wait / 1e9, buflines, buflen, rate, ec, ew, ee);
    if (ack) {
        printf("\"ack\":{\"answers\":%llu,\"ok\":%llu,\"error\":%llu,\"unexpected\":%llu,\"missing\":%llu,"
               "\"window_wait_s_sum\":%.3f,\"latency_us\":{\"mean\":%.1f,\"50\":%llu,\"90\":%llu,\"99\":%llu,\"99.9\":%llu,\"max\":%llu},"
               "\"first_error\":",
               (unsigned long long)answers, (unsigned long long)oks, (unsigned long long)errs,
               (unsigned long long)unexpected, (unsigned long long)missing, (double)window / 1e9,
               answered ? (double)lat_sum / (double)answered : 0.0,
               (unsigned long long)h_percentile(hist, answered, 50),
               (unsigned long long)h_percentile(hist, answered, 90),
               (unsigned long long)h_percentile(hist, answered, 99),
               (unsigned long long)h_percentile(hist, answered, 99.9), (unsigned long long)lat_max);
        json_string(first_error);
        printf("},");
    }
    printf("\"per_connection\":[");
    for (int i = 0; i < nconn; i++)
        printf("%s{\"records\":%llu,\"blocked_s\":%.3f,\"stalls_100ms\":%llu}", i ? "," : "",
               (unsigned long long)ws[i].records, (double)ws[i].blocked_ns / 1e9,
               (unsigned long long)ws[i].stalls);
    printf("]}\n");
    return ec || ew || ee || (ack && (missing || errs || unexpected)) ? 1 : 0;
}
