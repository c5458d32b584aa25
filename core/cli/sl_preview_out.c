/* sl_preview_out: the text and JSON forms of a preview's findings. */
#include "sl_preview_out.h"

#include <string.h>

#include <curl/curl.h>

#include "sl_buf.h"
#include "sl_preview.h"

/* One header line of the attempt's list as sent: *name (nlen bytes) and
 * *value; 0 for a line curl sends nothing for ("Expect:", which only
 * stops its 100-continue; "Name:" removes a header). "Name;" is curl's
 * way to send an empty value. */
static int header_of(const char *line, size_t *nlen, const char **value)
{
    const char *colon = strchr(line, ':');
    if (!colon) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != ';')
            return 0;
        *nlen = n - 1;
        *value = "";
        return 1;
    }
    const char *v = colon + 1;
    while (*v == ' ')
        v++;
    if (*v == '\0')
        return 0;
    *nlen = (size_t)(colon - line);
    *value = v;
    return 1;
}

/* Is the value of the header named name[0..nlen) shown as "****"? */
static int masked(const sl_preview_out *o, const sl_connector_conf *c,
                  const char *name, size_t nlen)
{
    char n[256];
    if (o->show_secrets)
        return 0;
    snprintf(n, sizeof n, "%.*s", (int)nlen, name);
    return sl_preview_header_masked(c, n);
}

/* s with its control bytes (below 0x20, and 0x7f) as \xHH: a field name
 * or a reason may quote the file, which must not drive the terminal. */
static void put_safe(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

static void text_request(const sl_preview_out *o, const sl_connector_conf *c,
                         const sl_preview_batch_req *r, uint64_t la,
                         uint64_t lb)
{
    FILE *out = o->out;
    fprintf(out, "### request %zu of %zu (records %zu..%zu, lines %llu..%llu)"
            "\n", r->k, r->m, r->first + 1, r->first + r->n,
            (unsigned long long)la, (unsigned long long)lb);
    fprintf(out, "%s %s\n", r->method, r->url ? r->url : "(no URL)");
    if (r->err) {
        fputs("(not made: ", out);
        put_safe(out, r->err);
        fputs(")\n", out);
    }
    for (const struct curl_slist *h = r->headers; h; h = h->next) {
        size_t nlen;
        const char *v;
        if (!header_of(h->data, &nlen, &v))
            continue;
        fprintf(out, "%.*s: %s\n", (int)nlen, h->data,
                masked(o, c, h->data, nlen) ? "****" : v);
    }
    if (!r->err)
        fprintf(out, "Content-Length: %zu\n", r->wire_len);
    fputc('\n', out);
    fwrite(r->body, 1, r->body_len, out);
    if (c->compression != SL_COMPRESSION_NONE)
        fprintf(out, "\n--- end of body (%zu bytes, sent gzip-compressed: "
                "%zu bytes)\n", r->body_len, r->wire_len);
    else
        fprintf(out, "\n--- end of body (%zu bytes)\n", r->body_len);
}

/* Append "name":string, (n bytes; NULL: null). */
static void json_member(sl_buf *b, const char *name, const char *s, size_t n)
{
    sl_buf_printf(b, ",\"%s\":", name);
    if (s)
        sl_buf_json_string(b, s, n);
    else
        sl_buf_append(b, "null", 4);
}

static void json_request(const sl_preview_out *o, const sl_connector_conf *c,
                         const sl_preview_batch_req *r, uint64_t la,
                         uint64_t lb)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_printf(&b, "{\"kind\":\"request\",\"request\":%zu,\"of\":%zu,"
                  "\"records\":[%zu,%zu],\"lines\":[%llu,%llu]", r->k, r->m,
                  r->first + 1, r->first + r->n, (unsigned long long)la,
                  (unsigned long long)lb);
    json_member(&b, "method", r->method, strlen(r->method));
    json_member(&b, "url", r->url, r->url ? strlen(r->url) : 0);
    sl_buf_append(&b, ",\"headers\":[", 12);
    const char *sep = "";
    for (const struct curl_slist *h = r->headers; h; h = h->next) {
        size_t nlen;
        const char *v;
        if (!header_of(h->data, &nlen, &v))
            continue;
        if (masked(o, c, h->data, nlen))
            v = "****";
        sl_buf_printf(&b, "%s[", sep);
        sl_buf_json_string(&b, h->data, nlen);
        sl_buf_putc(&b, ',');
        sl_buf_json_string(&b, v, strlen(v));
        sl_buf_putc(&b, ']');
        sep = ",";
    }
    if (!r->err)
        sl_buf_printf(&b, "%s[\"Content-Length\",\"%zu\"]", sep, r->wire_len);
    sl_buf_putc(&b, ']');
    json_member(&b, "body", r->body, r->body_len);
    sl_buf_printf(&b, ",\"body_bytes\":%zu,\"sent_bytes\":%zu", r->body_len,
                  r->wire_len);
    json_member(&b, "compression",
                c->compression != SL_COMPRESSION_NONE ? "gzip" : NULL, 4);
    json_member(&b, "error", r->err, r->err ? strlen(r->err) : 0);
    sl_buf_append(&b, "}\n", 2);
    fwrite(b.data, 1, b.len, o->out);
    sl_buf_free(&b);
}

void sl_preview_out_request(const sl_preview_out *o,
                            const sl_connector_conf *c,
                            const sl_preview_batch_req *r, uint64_t line_a,
                            uint64_t line_b)
{
    if (o->json)
        json_request(o, c, r, line_a, line_b);
    else
        text_request(o, c, r, line_a, line_b);
}

void sl_preview_out_rejected(const sl_preview_out *o, uint64_t line,
                             const char *field, const char *reason)
{
    if (!o->json) {
        fprintf(o->out, "line %llu: ", (unsigned long long)line);
        put_safe(o->out, field);
        fputs(*field ? ": " : "", o->out);
        put_safe(o->out, reason);
        fputc('\n', o->out);
        return;
    }
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_printf(&b, "{\"kind\":\"rejected\",\"line\":%llu",
                  (unsigned long long)line);
    json_member(&b, "field", field, strlen(field));
    json_member(&b, "error", reason, strlen(reason));
    sl_buf_append(&b, "}\n", 2);
    fwrite(b.data, 1, b.len, o->out);
    sl_buf_free(&b);
}

void sl_preview_out_dropped(const sl_preview_out *o, uint64_t line)
{
    if (o->json)
        fprintf(o->out, "{\"kind\":\"dropped\",\"line\":%llu}\n",
                (unsigned long long)line);
    else
        fprintf(o->out, "line %llu: dropped by the transform\n",
                (unsigned long long)line);
}

void sl_preview_out_summary(const sl_preview_out *o,
                            const sl_preview_out_counts *n)
{
    if (o->json) {
        fprintf(o->out, "{\"kind\":\"summary\",\"read\":%zu,\"accepted\":%zu,"
                "\"rejected\":%zu,\"dropped\":%zu,\"requests\":%zu,"
                "\"failed\":%zu}\n", n->read, n->accepted, n->rejected,
                n->dropped, n->requests, n->failed);
        return;
    }
    fprintf(o->out, "### %zu record%s read: %zu accepted, %zu rejected, %zu "
            "dropped by the transform; %zu request%s", n->read,
            n->read == 1 ? "" : "s", n->accepted, n->rejected, n->dropped,
            n->requests, n->requests == 1 ? "" : "s");
    if (n->failed)
        fprintf(o->out, " (%zu not made)", n->failed);
    fprintf(o->out, ", nothing sent\n");
}
