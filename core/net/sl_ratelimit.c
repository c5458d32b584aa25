/* sl_ratelimit: the rate-limit header fields of an answer. One pass over
 * the lines, each field family into a candidate reading; the most
 * restrictive candidate is the answer. A second pass, only when the
 * structured RateLimit field wins without a limit, looks up its policy's
 * quota in RateLimit-Policy. */
#include "sl_ratelimit.h"

#include <string.h>
#include <strings.h>

#define MAX_DIGITS 18 /* < 2^63: no overflow in the arithmetic below */
#define EPOCH_S_MIN 1000000000ull     /* above: a Unix time in seconds */
#define EPOCH_MS_MIN 1000000000000ull /* above: in milliseconds */

typedef struct span {
    const char *p, *e;
} span;

static int is_ws(char c) { return c == ' ' || c == '\t'; }

static span trim(const char *p, const char *e)
{
    while (p < e && is_ws(*p))
        p++;
    while (e > p && (is_ws(e[-1]) || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    return (span){p, e};
}

/* All of [p, e) is a non-negative integer of at most MAX_DIGITS digits. */
static int parse_uint(span s, uint64_t *v)
{
    if (s.p == s.e || s.e - s.p > MAX_DIGITS)
        return 0;
    uint64_t x = 0;
    for (const char *c = s.p; c < s.e; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        x = x * 10 + (uint64_t)(*c - '0');
    }
    *v = x;
    return 1;
}

/* Seconds, an integer or a decimal ("1.5"), in ms; *whole gets the
 * integer part (to tell a Unix time from a wait). */
static int parse_seconds(span s, uint64_t *ms, uint64_t *whole)
{
    const char *dot = memchr(s.p, '.', (size_t)(s.e - s.p));
    uint64_t i, frac = 0;
    if (!parse_uint((span){s.p, dot ? dot : s.e}, &i))
        return 0;
    if (dot) {
        if (dot + 1 == s.e)
            return 0;
        unsigned n = 0;
        for (const char *c = dot + 1; c < s.e; c++, n++) {
            if (*c < '0' || *c > '9')
                return 0;
            if (n < 3)
                frac = frac * 10 + (uint64_t)(*c - '0');
        }
        for (; n < 3; n++)
            frac *= 10;
    }
    *whole = i;
    *ms = i > SL_RATELIMIT_MAX_RESET_MS / 1000 ? SL_RATELIMIT_MAX_RESET_MS
                                               : i * 1000 + frac;
    return 1;
}

static uint64_t cap_reset(uint64_t ms)
{
    return ms > SL_RATELIMIT_MAX_RESET_MS ? SL_RATELIMIT_MAX_RESET_MS : ms;
}

/* X-RateLimit-Reset: a wait, or a Unix time in s or ms. */
static int parse_x_reset(span s, int64_t now_wall_ms, uint64_t *ms)
{
    uint64_t wait, whole;
    if (!parse_seconds(s, &wait, &whole))
        return 0;
    if (whole < EPOCH_S_MIN) {
        *ms = wait;
        return 1;
    }
    uint64_t at = whole >= EPOCH_MS_MIN ? whole : whole * 1000;
    uint64_t now = now_wall_ms > 0 ? (uint64_t)now_wall_ms : 0;
    *ms = at > now ? cap_reset(at - now) : 0;
    return 1;
}

/* A candidate's fields; a family's repeated fields keep the most
 * restrictive value. */
static void put_limit(sl_ratelimit *c, uint64_t v)
{
    if (!(c->known & SL_RATELIMIT_LIMIT) || v < c->limit)
        c->limit = v;
    c->known |= SL_RATELIMIT_LIMIT;
}

static void put_remaining(sl_ratelimit *c, uint64_t v)
{
    if (!(c->known & SL_RATELIMIT_REMAINING) || v < c->remaining)
        c->remaining = v;
    c->known |= SL_RATELIMIT_REMAINING;
}

static void put_reset(sl_ratelimit *c, uint64_t v)
{
    if (!(c->known & SL_RATELIMIT_RESET) || v > c->reset_ms)
        c->reset_ms = v;
    c->known |= SL_RATELIMIT_RESET;
}

/* Is a more restrictive than b: a remaining beats none, the lesser
 * remaining wins, then a reset beats none and the longer wins. */
static int tighter(const sl_ratelimit *a, const sl_ratelimit *b)
{
    int ar = (a->known & SL_RATELIMIT_REMAINING) != 0;
    int br = (b->known & SL_RATELIMIT_REMAINING) != 0;
    if (ar != br)
        return ar;
    if (ar && a->remaining != b->remaining)
        return a->remaining < b->remaining;
    int at = (a->known & SL_RATELIMIT_RESET) != 0;
    int bt = (b->known & SL_RATELIMIT_RESET) != 0;
    if (at != bt)
        return at;
    if (at && a->reset_ms != b->reset_ms)
        return a->reset_ms > b->reset_ms;
    return a->known > b->known;
}

/* ---- structured fields (RFC 8941 lists, leniently) ---------------------- */

/* Past a bare item at p: a string, a byte sequence, or anything up to a
 * delimiter. */
static const char *skip_item(const char *p, const char *e)
{
    if (p < e && (*p == '"' || *p == ':')) {
        char q = *p++;
        while (p < e && *p != q) {
            if (q == '"' && *p == '\\' && p + 1 < e)
                p++;
            p++;
        }
        return p < e ? p + 1 : e;
    }
    while (p < e && *p != ';' && *p != ',' && !is_ws(*p))
        p++;
    return p;
}

/* A list member: its name (a string's contents or a token) and its
 * numeric parameters r, t, q (an integer each; t also a decimal). */
typedef struct member {
    span name;
    int has_r, has_t, has_q;
    uint64_t r, t_ms, q;
} member;

/* Parse the member at *pp (to the next top-level comma); 1 when it is
 * well formed enough to use. *pp moves past the comma. */
static int next_member(const char **pp, const char *e, member *m)
{
    const char *p = *pp;
    memset(m, 0, sizeof *m);
    int ok = 1;
    while (p < e && is_ws(*p))
        p++;
    const char *n = p;
    p = skip_item(p, e);
    if (p == n || *n == ':' || *n == '(')
        ok = 0;
    else if (*n == '"')
        m->name = (span){n + 1, p > n + 1 && p[-1] == '"' ? p - 1 : p};
    else
        m->name = (span){n, p};
    while (p < e && *p != ',') {
        while (p < e && is_ws(*p))
            p++;
        if (p >= e || *p == ',')
            break;
        if (*p != ';') { /* junk: the member is not usable */
            ok = 0;
            p = skip_item(p, e); /* moves: *p is no delimiter */
            continue;
        }
        p++;
        while (p < e && is_ws(*p))
            p++;
        const char *k = p;
        while (p < e && *p != '=' && *p != ';' && *p != ',' && !is_ws(*p))
            p++;
        span key = {k, p};
        if (p >= e || *p != '=')
            continue; /* a boolean parameter */
        const char *v = ++p;
        p = skip_item(p, e);
        span val = {v, p};
        size_t kl = (size_t)(key.e - key.p);
        uint64_t x = 0, whole = 0;
        if (kl == 1 && *key.p == 'r') {
            m->has_r = parse_uint(val, &x);
            m->r = x;
        } else if (kl == 1 && *key.p == 'q') {
            m->has_q = parse_uint(val, &x);
            m->q = x;
        } else if (kl == 1 && *key.p == 't') {
            m->has_t = parse_seconds(val, &x, &whole);
            m->t_ms = x;
        }
    }
    *pp = p < e ? p + 1 : e;
    return ok;
}

static int same_name(span a, span b)
{
    size_t n = (size_t)(a.e - a.p);
    return n == (size_t)(b.e - b.p) && memcmp(a.p, b.p, n) == 0;
}

/* RateLimit: its most restrictive member into *best (its name in *name). */
static void read_structured(span v, sl_ratelimit *best, span *name)
{
    const char *p = v.p;
    while (p < v.e) {
        member m;
        if (!next_member(&p, v.e, &m) || !m.has_r)
            continue;
        sl_ratelimit c = {SL_RATELIMIT_REMAINING, 0, m.r, 0};
        if (m.has_t) {
            c.known |= SL_RATELIMIT_RESET;
            c.reset_ms = m.t_ms;
        }
        if (!best->known || tighter(&c, best)) {
            *best = c;
            *name = m.name;
        }
    }
}

/* ---- lines ------------------------------------------------------------------ */

typedef struct reading {
    sl_ratelimit legacy, x, sf;
    span sf_name;
} reading;

/* "10, 10;w=1": the first number. */
static int first_number(span v, uint64_t *x)
{
    const char *p = v.p;
    while (p < v.e && *p != ',' && *p != ';')
        p++;
    return parse_uint(trim(v.p, p), x);
}

#define NAME_IS(lit) (nl == sizeof lit - 1 && strncasecmp(name, lit, nl) == 0)

static void read_line(reading *r, const char *name, size_t nl, span v,
                      int64_t now_wall_ms)
{
    uint64_t x = 0, whole = 0;
    if (!(nl >= 9 && strncasecmp(name, "ratelimit", 9) == 0) &&
        !(nl >= 11 && strncasecmp(name, "x-ratelimit", 11) == 0))
        return;
    if (NAME_IS("ratelimit"))
        read_structured(v, &r->sf, &r->sf_name);
    else if (NAME_IS("ratelimit-limit")) {
        if (first_number(v, &x))
            put_limit(&r->legacy, x);
    } else if (NAME_IS("ratelimit-remaining")) {
        if (parse_uint(v, &x))
            put_remaining(&r->legacy, x);
    } else if (NAME_IS("ratelimit-reset")) {
        if (parse_seconds(v, &x, &whole))
            put_reset(&r->legacy, x);
    } else if (NAME_IS("x-ratelimit-limit")) {
        if (first_number(v, &x))
            put_limit(&r->x, x);
    } else if (NAME_IS("x-ratelimit-remaining")) {
        if (parse_uint(v, &x))
            put_remaining(&r->x, x);
    } else if (NAME_IS("x-ratelimit-reset")) {
        if (parse_x_reset(v, now_wall_ms, &x))
            put_reset(&r->x, x);
    }
}

/* Call fn for each "Name: value" line. */
static void each_line(const char *h, size_t len, void *ud,
                      void (*fn)(void *ud, const char *name, size_t nl,
                                 span v))
{
    const char *p = h, *end = h + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon) {
            span n = trim(p, colon);
            fn(ud, n.p, (size_t)(n.e - n.p), trim(colon + 1, le));
        }
        p = eol ? eol + 1 : end;
    }
}

typedef struct line_ctx {
    reading *r;
    int64_t now;
} line_ctx;

static void on_line(void *ud, const char *name, size_t nl, span v)
{
    line_ctx *c = ud;
    read_line(c->r, name, nl, v, c->now);
}

typedef struct policy_ctx {
    span want;
    int found, any;
    uint64_t q, min_q;
} policy_ctx;

/* RateLimit-Policy: the quota of the policy named want, else the least. */
static void on_policy(void *ud, const char *name, size_t nl, span v)
{
    policy_ctx *c = ud;
    if (!NAME_IS("ratelimit-policy"))
        return;
    const char *p = v.p;
    while (p < v.e) {
        member m;
        if (!next_member(&p, v.e, &m) || !m.has_q)
            continue;
        if (!c->any || m.q < c->min_q)
            c->min_q = m.q;
        c->any = 1;
        if (same_name(m.name, c->want) && (!c->found || m.q < c->q)) {
            c->q = m.q;
            c->found = 1;
        }
    }
}

unsigned sl_ratelimit_parse(const char *headers, size_t len,
                            int64_t now_wall_ms, sl_ratelimit *out)
{
    memset(out, 0, sizeof *out);
    if (!headers || len == 0)
        return 0;
    reading r;
    memset(&r, 0, sizeof r);
    line_ctx lc = {&r, now_wall_ms};
    each_line(headers, len, &lc, on_line);
    const sl_ratelimit *cand[] = {&r.legacy, &r.x, &r.sf};
    const sl_ratelimit *best = NULL;
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        if (cand[i]->known && (!best || tighter(cand[i], best)))
            best = cand[i];
    if (!best) {
        /* only a policy: its quota is still worth knowing */
        policy_ctx pc = {{NULL, NULL}, 0, 0, 0, 0};
        each_line(headers, len, &pc, on_policy);
        if (pc.any) {
            out->known = SL_RATELIMIT_LIMIT;
            out->limit = pc.min_q;
        }
        return out->known;
    }
    *out = *best;
    if (best == &r.sf) {
        policy_ctx pc = {r.sf_name, 0, 0, 0, 0};
        each_line(headers, len, &pc, on_policy);
        if (pc.any) {
            out->known |= SL_RATELIMIT_LIMIT;
            out->limit = pc.found ? pc.q : pc.min_q;
        }
    }
    return out->known;
}
