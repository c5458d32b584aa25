/* sl_preview: one request rendered for a person, from the parts that make
 * the real ones. */
#include "sl_preview.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "sl_attempt_headers.h"
#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_config_print.h"
#include "sl_err.h"
#include "sl_fieldtpl.h"
#include "sl_json.h"
#include "sl_schema.h"
#include "sl_schema_sample.h"

/* The URL for rec: c->url, or its placeholders filled. */
static int put_url(const sl_connector_conf *c, const char *rec, size_t len,
                   FILE *out, char *why, size_t whylen)
{
    if (!c->url_tpl) {
        fprintf(out, "    %s %s\n", c->method, c->url);
        return 0;
    }
    sl_buf url;
    sl_schema_error bad;
    sl_buf_init(&url, 0);
    sl_fieldtpl_rc rc = sl_fieldtpl_render(c->url_tpl, rec, len, &url, &bad);
    if (rc == SL_FIELDTPL_OK)
        fprintf(out, "    %s %.*s\n", c->method, (int)url.len, url.data);
    else if (rc == SL_FIELDTPL_BAD)
        snprintf(why, whylen, "%s: %s", bad.field, bad.msg);
    else
        snprintf(why, whylen, "out of memory");
    sl_buf_free(&url);
    return rc == SL_FIELDTPL_OK ? 0 : -1;
}

int sl_preview_header_masked(const sl_connector_conf *c, const char *name)
{
    return sl_config_header_is_secret(name) &&
           (!c->idempotency_header ||
            strcasecmp(name, c->idempotency_header) != 0);
}

/* The attempt's header lines, "Name: value", secret-looking values
 * masked; "Expect:" (which only stops curl's 100-continue) left out. */
static int put_headers(const sl_connector_conf *c, const char *key,
                       const char *rec, size_t len, FILE *out, char *why,
                       size_t whylen)
{
    const char *one = c->body == SL_BODY_OBJECT ? rec : NULL;
    struct curl_slist *list =
        sl_attempt_headers_new(c, key, one, len, NULL, why, whylen);
    if (!list)
        return -1;
    for (const struct curl_slist *h = list; h; h = h->next) {
        const char *colon = strchr(h->data, ':');
        if (!colon || colon[1] == '\0')
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(colon - h->data), h->data);
        if (sl_preview_header_masked(c, name))
            fprintf(out, "    %s: ****\n", name);
        else
            fprintf(out, "    %s\n", h->data);
    }
    sl_attempt_headers_free(list);
    return 0;
}

int sl_preview_request(const sl_connector_conf *c, const char *rec,
                       size_t len, FILE *out, char *why, size_t whylen)
{
    int rc = -1;
    sl_batch *b = sl_batch_new(c);
    if (!b || sl_batch_take_records(b, &rec, &len, 1) != 1 ||
        sl_batch_build(b) != 0) {
        sl_err_set(why, whylen, "out of memory");
        goto done;
    }
    size_t body_len, wire_len;
    const char *body = sl_batch_body(b, &body_len);
    sl_batch_wire_body(b, &wire_len);
    if (put_url(c, rec, len, out, why, whylen) != 0 ||
        put_headers(c, sl_batch_key(b), rec, len, out, why, whylen) != 0)
        goto done;
    if (c->compression != SL_COMPRESSION_NONE)
        fprintf(out, "    Content-Length: %zu (gzip of the %zu bytes "
                "below)\n", wire_len, body_len);
    else
        fprintf(out, "    Content-Length: %zu\n", body_len);
    if (c->headers_fn_ref != LUA_NOREF && c->headers_fn_ref != LUA_REFNIL)
        fprintf(out, "    (and what headers_fn returns for each attempt; "
                "not run here)\n");
    fprintf(out, "\n    %.*s%s", (int)body_len, body,
            body_len && body[body_len - 1] == '\n' ? "" : "\n");
    rc = 0;
done:
    sl_batch_free(b);
    return rc;
}

/* The made-up record, encoded as the intake encodes it. 0, or -1 with
 * why. */
static int sample(const sl_schema *s, sl_buf *rec, char *why, size_t whylen)
{
    sl_buf text;
    sl_json js;
    sl_json_token first;
    sl_schema_error err;
    int rc = -1;
    sl_buf_init(&text, 0);
    if (sl_schema_sample_record(s, &text) != 0) {
        sl_err_set(why, whylen, "out of memory");
        goto done;
    }
    sl_json_init(&js, text.data, text.len, 64);
    sl_json_next(&js, &first);
    switch (sl_schema_encode(s, &js, &first, rec, &err)) {
    case SL_SCHEMA_OK:
        rc = 0;
        break;
    case SL_SCHEMA_NOMEM:
        sl_err_set(why, whylen, "out of memory");
        break;
    default:
        snprintf(why, whylen, "%s%s%s", err.field, *err.field ? ": " : "",
                 err.msg);
    }
done:
    sl_buf_free(&text);
    return rc;
}

void sl_preview_connector(const sl_connector_conf *c, FILE *out)
{
    char why[512];
    sl_buf rec;
    sl_buf_init(&rec, 0);
    fprintf(out, "  example request (a record made up from the schema; "
            "nothing is sent)\n");
    if (sample(c->schema, &rec, why, sizeof why) != 0)
        fprintf(out, "    (no record could be made up: %s)\n", why);
    else if (sl_preview_request(c, rec.data, rec.len, out, why,
                                sizeof why) != 0)
        fprintf(out, "    (cannot show it: %s)\n", why);
    sl_buf_free(&rec);
}
