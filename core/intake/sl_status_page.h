/* sl_status_page: the status page at GET / — one HTML document, no
 * script, no external assets, refreshing itself — showing per connector
 * its state and last error, the accepted and delivered rates with an
 * inline SVG chart of the last 15 minutes, backlog, oldest record age and
 * dead letters; and the gateway's version, uptime and listeners. It keeps
 * a ring of samples per connector (every SL_STATUS_PAGE_SAMPLE_S seconds,
 * SL_STATUS_PAGE_SAMPLES of them), taken on the loop by its own timer. */
#ifndef SL_STATUS_PAGE_H
#define SL_STATUS_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_connector.h"

struct event_base;
struct sl_buf;
struct sl_status_page;
typedef struct sl_status_page sl_status_page;

#define SL_STATUS_PAGE_SAMPLE_S 10
#define SL_STATUS_PAGE_SAMPLES 90 /* 15 minutes */
#define SL_STATUS_PAGE_REFRESH_S 10

/* The connectors running now: *cs set to an array of them (borrowed
 * until the next return to the loop); returns how many. */
typedef size_t (*sl_status_page_connectors_fn)(void *arg,
                                               sl_connector *const **cs);

typedef struct sl_status_page_info {
    const char *version;
    unsigned sample_ms;           /* between samples; 0: the default,
                                     SL_STATUS_PAGE_SAMPLE_S */
    const char *const *listeners; /* lines such as "http 127.0.0.1:8080";
                                     copied */
    size_t nlisteners;
} sl_status_page_info;

/* A page for the connectors `fn` lists (fn and arg borrowed), sampling
 * them now and then every info->sample_ms on `base` (with
 * base NULL: only when sl_status_page_sample is called). NULL out of
 * memory. Free with sl_status_page_free (accepts NULL). */
sl_status_page *sl_status_page_new(struct event_base *base,
                                   const sl_status_page_info *info,
                                   sl_status_page_connectors_fn fn, void *arg);
void sl_status_page_free(sl_status_page *p);

/* The listener lines shown from now on (copied; a reload moved one).
 * 0, or -1 out of memory (the lines before stay). */
int sl_status_page_set_listeners(sl_status_page *p, const char *const *lines,
                                 size_t n);

/* Take one sample of every connector at wall time `now` (ms): a
 * connector seen for the first time starts a ring, one gone loses its
 * ring. 0, or -1 out of memory (the rings stay as they were). */
int sl_status_page_sample(sl_status_page *p, int64_t now);

/* Append the page, as of wall time `now` (ms), to out; every text from
 * the configuration or a connector is HTML-escaped. 0, or -1 out of
 * memory (out may hold part of it). */
int sl_status_page_render(sl_status_page *p, int64_t now, struct sl_buf *out);

/* Append s (len bytes) to out with & < > " ' escaped. 0, or -1. */
int sl_status_page_escape(struct sl_buf *out, const char *s, size_t len);

#endif
