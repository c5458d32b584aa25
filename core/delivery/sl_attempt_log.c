/* sl_attempt_log: a failed attempt's log line, secret header values taken
 * out of the answer body it quotes. */
#include "sl_attempt_log.h"

#include <string.h>

#include "sl_config_print.h"
#include "sl_log.h"

#define MAX_CANDS 32
#define MIN_SECRET 4

typedef struct cand {
    const char *s;
    size_t n;
} cand;

static void add(cand *c, size_t *nc, const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= MIN_SECRET && *nc < MAX_CANDS)
        c[(*nc)++] = (cand){s, n};
}

/* The secret values of "Name: value" lines; longer first is not needed:
 * the whole value is tried before its credentials part. */
static size_t candidates(const struct curl_slist *h, cand *c)
{
    size_t nc = 0;
    for (; h; h = h->next) {
        const char *colon = strchr(h->data, ':');
        if (!colon || (size_t)(colon - h->data) >= 128)
            continue;
        char name[128];
        memcpy(name, h->data, (size_t)(colon - h->data));
        name[colon - h->data] = '\0';
        if (!sl_config_header_is_secret(name))
            continue;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        add(c, &nc, v, strlen(v));
        const char *sp = strchr(v, ' ');
        if (sp)
            add(c, &nc, sp + 1, strlen(sp + 1));
    }
    return nc;
}

const char *sl_attempt_log_redact(const struct curl_slist *headers,
                                  const char *body, size_t len,
                                  char *out, size_t outlen)
{
    if (!outlen)
        return out;
    cand c[MAX_CANDS];
    size_t nc = candidates(headers, c), o = 0, i = 0;
    while (i < len && o + 1 < outlen) {
        size_t k = 0;
        while (k < nc && (c[k].n > len - i || memcmp(body + i, c[k].s,
                                                     c[k].n) != 0))
            k++;
        if (k < nc) {
            for (const char *m = "****"; *m && o + 1 < outlen; m++)
                out[o++] = *m;
            i += c[k].n;
            continue;
        }
        char ch = body[i++];
        out[o++] = ch == '\0' || ch == '\r' || ch == '\n' ? ' ' : ch;
    }
    out[o] = '\0';
    return out;
}

void sl_attempt_log_mask(const struct curl_slist *headers, const char *src,
                         size_t srclen, char *dst, size_t dstlen)
{
    cand c[MAX_CANDS];
    size_t nc = candidates(headers, c), i = 0;
    while (nc && i < dstlen && i < srclen) {
        size_t k = 0;
        while (k < nc && (c[k].n > srclen - i || memcmp(src + i, c[k].s,
                                                        c[k].n) != 0))
            k++;
        if (k < nc) {
            size_t m = c[k].n < dstlen - i ? c[k].n : dstlen - i;
            memset(dst + i, '*', m);
            i += c[k].n;
        } else {
            i++;
        }
    }
}

void sl_attempt_log_failure(const char *key, size_t n, unsigned attempt,
                            const char *url,
                            const sl_http_client_response *res,
                            const struct curl_slist *headers)
{
    char body[201];
    if (res->status)
        sl_log_warn("delivery", "batch %s (%zu records) attempt %u to %s: "
                    "HTTP %ld: %s", key, n, attempt, url, res->status,
                    sl_attempt_log_redact(headers, res->body, res->body_len,
                                          body, sizeof body));
    else
        sl_log_warn("delivery", "batch %s (%zu records) attempt %u to %s: %s",
                    key, n, attempt, url, res->error);
}
