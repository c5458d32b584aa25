/* sl_openapi: the intake's OpenAPI 3.1 document, written as JSON text:
 * the fixed parts (answers, parameters, security) from constants, the
 * per-connector parts from each connector's configuration. */
#include "sl_openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_bufw.h"
#include "sl_config_load.h"
#include "sl_openapi_schema.h"
#include "sl_version.h"

/* The writer (sl_bufw), its calls short: most of this file is them. */
typedef sl_bufw w;
static void put(w *o, const char *s) { sl_bufw_put(o, s); }
static void str(w *o, const char *s) { sl_bufw_str(o, s, strlen(s)); }

static int key_byte(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int sl_openapi_key(const char *name, sl_buf *out)
{
    size_t mark = out->len;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (sl_buf_putc(out, key_byte(*p) ? (char)*p : '_') != 0) {
            sl_buf_truncate(out, mark);
            return -1;
        }
    return 0;
}

/* "#/components/schemas/<key>_record", a JSON string (keys need no
 * escaping). */
static void record_ref(w *o, const char *name)
{
    put(o, "{\"$ref\":\"#/components/schemas/");
    if (!o->failed && sl_openapi_key(name, o->b) != 0)
        o->failed = 1;
    put(o, "_record\"}");
}

/* The path of a connector's records, as a JSON string: the name
 * percent-encoded but for the bytes a path segment takes as they are. */
static void records_path(w *o, const char *name)
{
    sl_buf p;
    sl_buf_init(&p, 0);
    int rc = sl_buf_append(&p, "/v1/connectors/", 15);
    for (const unsigned char *c = (const unsigned char *)name; *c && !rc; c++)
        rc = key_byte(*c) || *c == '~' ? sl_buf_putc(&p, (char)*c)
                                       : sl_buf_printf(&p, "%%%02X", *c);
    rc = rc || sl_buf_append(&p, "/records", 8);
    if (rc || sl_buf_json_string(o->b, p.data, p.len) != 0)
        o->failed = 1;
    sl_buf_free(&p);
}

/* The answers every operation shares, as components.responses. */
static const char responses[] =
    "\"responses\":{"
    "\"accepted\":{\"description\":\"Every record was checked: the "
    "accepted ones are spooled durably (as the connector's durability "
    "says) before this answer is sent; the rejected ones are listed with "
    "their index in the request (0-based), the field and why. A dry run "
    "(dry_run=true) answers the same and keeps nothing.\","
    "\"headers\":{\"Sluice-Dry-Run\":{\"$ref\":\"#/components/headers/"
    "Sluice-Dry-Run\"}},"
    "\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/"
    "schemas/IngestAnswer\"}}}},"
    "\"rejected\":{\"description\":\"Every record of the request was "
    "rejected (none accepted, none dropped by a transform): the same body "
    "as 200.\",\"headers\":{\"Sluice-Dry-Run\":{\"$ref\":\"#/components/"
    "headers/Sluice-Dry-Run\"}},"
    "\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/"
    "schemas/IngestAnswer\"}}}},"
    "\"malformed\":{\"description\":\"Malformed JSON (offset: the byte where "
    "it breaks, in the body as inflated), a bad dry_run, a broken chunked "
    "body or a malformed HTTP request. Nothing of the request was "
    "accepted.\",\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
    "\"#/components/schemas/Error\"}}}},"
    "\"unauthorized\":{\"description\":\"No intake key, or a wrong one: "
    "send Authorization: Bearer <key>.\",\"headers\":{\"WWW-Authenticate\":"
    "{\"description\":\"Bearer realm=\\\"sluice\\\"\",\"schema\":{\"type\":"
    "\"string\"}}},\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
    "\"#/components/schemas/Error\"}}}},"
    "\"unknown_connector\":{\"description\":\"No such connector (or a "
    "reload removed it).\",\"content\":{\"application/json\":{\"schema\":"
    "{\"$ref\":\"#/components/schemas/Error\"}}}},"
    "\"too_large\":{\"description\":\"The body is larger than "
    "max_body_bytes, inflates past max_decompressed_bytes, or holds more "
    "records than the connector's limits.records_per_request. Nothing of "
    "the request was accepted.\",\"content\":{\"application/json\":"
    "{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}},"
    "\"unsupported\":{\"description\":\"A Content-Type other than JSON or "
    "NDJSON, or a Content-Encoding other than gzip, deflate or identity, "
    "or a compressed body that does not inflate.\",\"content\":"
    "{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/"
    "Error\"}}}},"
    "\"unavailable\":{\"description\":\"The connector cannot take records "
    "now (its spool or queue is full, it is blocked, the gateway is "
    "shutting down, the spool could not be written): nothing of the "
    "request was accepted; retry after Retry-After seconds.\","
    "\"headers\":{\"Retry-After\":{\"description\":\"seconds to wait before "
    "retrying\",\"schema\":{\"type\":\"integer\",\"minimum\":1}}},"
    "\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/"
    "schemas/Error\"}}}},"
    "\"internal\":{\"description\":\"Out of memory, or a failure of the "
    "gateway: nothing of the request was accepted.\",\"content\":"
    "{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/"
    "Error\"}}}},"
    "\"other\":{\"description\":\"Any other refusal of the HTTP layer "
    "(417 Expect, 431 headers too large, ...).\",\"content\":"
    "{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/"
    "Error\"}}}}}";

/* The answers' bodies. */
static const char answer_schemas[] =
    "\"IngestAnswer\":{\"type\":\"object\",\"required\":[\"accepted\","
    "\"rejected\"],\"additionalProperties\":false,\"properties\":{"
    "\"accepted\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
    "\"records accepted (a transform's outputs counted)\"},"
    "\"dropped\":{\"type\":\"integer\",\"minimum\":1,\"description\":"
    "\"records a transform dropped (returned nil); absent when none\"},"
    "\"rejected\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/"
    "schemas/Rejection\"}},"
    "\"rejected_total\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
    "\"all rejected records, when more were rejected than are listed\"},"
    "\"rejected_truncated\":{\"const\":true}}},"
    "\"Rejection\":{\"type\":\"object\",\"required\":[\"index\",\"field\","
    "\"error\"],\"additionalProperties\":false,\"properties\":{"
    "\"index\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
    "\"the record's position in the request, from 0 (an NDJSON body: "
    "among its non-blank lines)\"},"
    "\"field\":{\"type\":\"string\",\"description\":\"the path of the "
    "value (\\\"address.zip\\\", \\\"lines[3].sku\\\"); empty when the "
    "record as a whole is wrong\"},"
    "\"error\":{\"type\":\"string\",\"description\":\"why\"}}},"
    "\"Error\":{\"type\":\"object\",\"required\":[\"error\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"error\":{\"type\":\"string\"},"
    "\"offset\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
    "\"malformed JSON: the byte where it breaks\"}}}";

static const char security_schemes[] =
    "\"securitySchemes\":{\"intake_key\":{\"type\":\"http\",\"scheme\":"
    "\"bearer\",\"description\":\"One of the connector's intake_keys, as "
    "Authorization: Bearer <key>. Only connectors with intake_keys ask for "
    "it (their operations list this scheme).\"}}";

static const char headers[] =
    "\"headers\":{\"Sluice-Dry-Run\":{\"description\":\"true on every answer "
    "to a dry run\",\"schema\":{\"const\":\"true\"}}}";

static const char parameters[] =
    "\"parameters\":{"
    "\"dry_run\":{\"name\":\"dry_run\",\"in\":\"query\",\"required\":false,"
    "\"description\":\"true (or 1): check the records and answer exactly as "
    "a real post would, but spool nothing and count nothing as accepted; "
    "true/false case-insensitive; given twice, or any other value, is "
    "400.\",\"schema\":{\"type\":\"string\",\"pattern\":"
    "\"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$\",\"default\":"
    "\"false\"}},"
    "\"Content-Encoding\":{\"name\":\"Content-Encoding\",\"in\":\"header\","
    "\"required\":false,"
    "\"description\":\"gzip (or x-gzip) or deflate: the body is compressed "
    "(case-insensitive); identity or absent: it is not. Inflated, it may "
    "be at most max_decompressed_bytes.\",\"schema\":{\"type\":\"string\","
    "\"enum\":[\"gzip\",\"x-gzip\",\"deflate\",\"identity\"]}}}";

/* The media types of NDJSON bodies sluice takes. */
static const char *const ndjson_types[] = {
    "application/x-ndjson", "application/ndjson", "application/jsonl",
    "application/x-jsonlines"};

/* "#/components/schemas/<key>_record" as a bare pointer in a string. */
static void record_pointer(w *o, const char *name)
{
    put(o, "\"#/components/schemas/");
    if (!o->failed && sl_openapi_key(name, o->b) != 0)
        o->failed = 1;
    put(o, "_record\"");
}

static void json_body(w *o, const sl_connector_conf *c)
{
    if (sl_config_has_transform(c)) {
        /* the transform takes any JSON value: the schema is its output's */
        put(o, "{\"description\":\"This connector has a transform: the "
               "intake takes what the transform takes (any JSON value as a "
               "record, or an array of them), not the record schema, which "
               "is what the transform's outputs must be "
               "(x-sluice-output-schema).\",\"x-sluice-transform\":true,"
               "\"x-sluice-output-schema\":");
        record_pointer(o, c->name);
        if (c->limit_records)
            sl_bufw_putf(o, ",\"x-sluice-max-records\":%zu", c->limit_records);
        put(o, "}");
        return;
    }
    put(o, "{\"oneOf\":[");
    record_ref(o, c->name);
    put(o, ",{\"type\":\"array\",\"items\":");
    record_ref(o, c->name);
    if (c->limit_records)
        sl_bufw_putf(o, ",\"maxItems\":%zu", c->limit_records);
    put(o, ",\"description\":\"records; more than "
           "limits.records_per_request is 413\"}]}");
}

static void ndjson_body(w *o, const sl_connector_conf *c)
{
    put(o, "{\"type\":\"string\",\"contentMediaType\":\"application/x-ndjson\","
           "\"description\":\"One record per line (LF or CRLF), each a JSON ");
    put(o, sl_config_has_transform(c)
               ? "value the transform takes; blank lines are skipped. A "
                 "malformed line rejects that line alone.\""
               : "object as the record schema (x-sluice-line-schema) says; "
                 "blank lines are skipped. A malformed line rejects that "
                 "line alone.\"");
    put(o, sl_config_has_transform(c) ? ",\"x-sluice-transform\":true,"
                                        "\"x-sluice-output-schema\":"
                                      : ",\"x-sluice-line-schema\":");
    record_pointer(o, c->name);
    if (c->limit_records)
        sl_bufw_putf(o, ",\"x-sluice-max-lines\":%zu", c->limit_records);
    put(o, "}");
}

static void request_body(w *o, const sl_openapi_intake *in,
                         const sl_connector_conf *c)
{
    put(o, "\"requestBody\":{\"required\":true,\"description\":\"Records as "
           "JSON (one object, or an array of them) or NDJSON; a body without "
           "Content-Type is read as JSON.");
    if (in->max_body_bytes)
        sl_bufw_putf(o, " At most %zu bytes as sent (max_body_bytes)",
                     in->max_body_bytes);
    if (in->max_decompressed_bytes)
        sl_bufw_putf(o, "%s %zu bytes inflated (max_decompressed_bytes)",
                     in->max_body_bytes ? ", and" : " At most",
                     in->max_decompressed_bytes);
    put(o, in->max_body_bytes || in->max_decompressed_bytes ? ".\"" : "\"");
    if (in->max_body_bytes)
        sl_bufw_putf(o, ",\"x-sluice-max-body-bytes\":%zu", in->max_body_bytes);
    if (in->max_decompressed_bytes)
        sl_bufw_putf(o, ",\"x-sluice-max-decompressed-bytes\":%zu",
                     in->max_decompressed_bytes);
    put(o, ",\"content\":{\"application/json\":{\"schema\":");
    json_body(o, c);
    put(o, "}");
    for (size_t i = 0; i < sizeof ndjson_types / sizeof *ndjson_types; i++) {
        sl_bufw_putf(o, ",\"%s\":{\"schema\":", ndjson_types[i]);
        ndjson_body(o, c);
        put(o, "}");
    }
    put(o, "}}");
}

static void operation(w *o, const sl_openapi_intake *in,
                      const sl_connector_conf *c)
{
    records_path(o, c->name);
    put(o, ":{\"post\":{\"operationId\":\"post_");
    if (!o->failed && sl_openapi_key(c->name, o->b) != 0)
        o->failed = 1;
    put(o, "_records\",\"tags\":[\"records\"],\"summary\":");
    char summary[128];
    snprintf(summary, sizeof summary, "Send records to connector %.64s",
             c->name);
    str(o, summary);
    put(o, ",\"description\":\"Each record is checked against the "
           "connector's schema");
    put(o, sl_config_has_transform(c) ? " after its transform" : "");
    put(o, "; valid ones are spooled and delivered, invalid ones are listed "
           "in the answer. A record is accepted or rejected as a whole.");
    if (c->url_tpl || c->header_tpls)
        put(o, " This connector fills its URL or headers from record "
               "fields ({field} placeholders): a value that cannot go in "
               "the request (empty or a dot segment in the path, a control "
               "character or more than 4096 bytes in a header) rejects the "
               "record, which the record schema does not say "
               "(x-sluice-placeholders; docs/connectors.md, Per-record "
               "URLs).\",\"x-sluice-placeholders\":true");
    else
        put(o, "\"");
    put(o, ","
           "\"parameters\":[{\"$ref\":\"#/components/parameters/dry_run\"},"
           "{\"$ref\":\"#/components/parameters/Content-Encoding\"}],");
    request_body(o, in, c);
    put(o, ",\"responses\":{"
           "\"200\":{\"$ref\":\"#/components/responses/accepted\"},"
           "\"400\":{\"$ref\":\"#/components/responses/malformed\"},");
    if (c->nintake_keys)
        put(o, "\"401\":{\"$ref\":\"#/components/responses/unauthorized\"},");
    put(o, "\"404\":{\"$ref\":\"#/components/responses/unknown_connector\"},"
           "\"413\":{\"$ref\":\"#/components/responses/too_large\"},"
           "\"415\":{\"$ref\":\"#/components/responses/unsupported\"},"
           "\"422\":{\"$ref\":\"#/components/responses/rejected\"},"
           "\"500\":{\"$ref\":\"#/components/responses/internal\"},"
           "\"503\":{\"$ref\":\"#/components/responses/unavailable\"},"
           "\"default\":{\"$ref\":\"#/components/responses/other\"}}");
    if (c->nintake_keys)
        put(o, ",\"security\":[{\"intake_key\":[]}]");
    put(o, "}}");
}

/* The intake's URL: http(s)://host:port, an IPv6 host in brackets. */
static void server(w *o, const sl_openapi_intake *in)
{
    const char *host = in->host && *in->host ? in->host : "127.0.0.1";
    int v6 = strchr(host, ':') != NULL;
    char url[320];
    snprintf(url, sizeof url, "%s://%s%.255s%s:%d", in->tls ? "https" : "http",
             v6 ? "[" : "", host, v6 ? "]" : "", in->port);
    put(o, "\"servers\":[{\"url\":");
    str(o, url);
    put(o, ",\"description\":\"the gateway's listen address (a wildcard "
           "address stands for any of the host's)\"}]");
}

static int by_name(const void *a, const void *b)
{
    const sl_connector_conf *x = *(const sl_connector_conf *const *)a;
    const sl_connector_conf *y = *(const sl_connector_conf *const *)b;
    return strcmp(x->name, y->name);
}

static void document(w *o, const sl_openapi_intake *in,
                     const sl_connector_conf *const *cs, size_t n)
{
    put(o, "{\"openapi\":\"3.1.0\",\"jsonSchemaDialect\":"
           "\"https://json-schema.org/draft/2020-12/schema\",\"info\":{"
           "\"title\":\"sluice intake\",\"version\":\"" SL_VERSION "\","
           "\"description\":\"Records sent to the connectors of one sluice "
           "gateway. Each connector's record is a JSON Schema under "
           "components.schemas (<connector>_record); what sluice checks "
           "beyond it is in its description and x-sluice-* members (see "
           "docs/tools.md, OpenAPI).\"},");
    server(o, in);
    put(o, ",\"tags\":[{\"name\":\"records\",\"description\":\"records "
           "into a connector\"}],\"paths\":{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(o, ",");
        operation(o, in, cs[i]);
    }
    put(o, "},\"components\":{\"schemas\":{");
    put(o, answer_schemas);
    for (size_t i = 0; i < n; i++) {
        put(o, ",\"");
        if (!o->failed && sl_openapi_key(cs[i]->name, o->b) != 0)
            o->failed = 1;
        put(o, "_record\":");
        if (!o->failed &&
            sl_openapi_schema_record(cs[i]->schema, cs[i]->limit_depth,
                                     o->b) != 0)
            o->failed = 1;
    }
    put(o, "},");
    put(o, responses);
    put(o, ",");
    put(o, parameters);
    put(o, ",");
    put(o, headers);
    put(o, ",");
    put(o, security_schemes);
    put(o, "}}");
}

int sl_openapi_write(const sl_openapi_intake *in,
                     const sl_connector_conf *const *cs, size_t n,
                     sl_buf *out)
{
    const sl_connector_conf **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return -1;
    if (n)
        memcpy(sorted, cs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_name);
    w o = {out, 0};
    size_t mark = out->len;
    document(&o, in, sorted, n);
    free(sorted);
    if (o.failed) {
        sl_buf_truncate(out, mark);
        return -1;
    }
    return 0;
}

void sl_openapi_intake_of(const sl_config *cfg, sl_openapi_intake *in)
{
    *in = (sl_openapi_intake){
        .host = cfg->listen_host,
        .port = cfg->listen_port,
        .tls = cfg->tls.cert != NULL,
        .max_body_bytes = cfg->max_body_bytes,
        .max_decompressed_bytes = cfg->max_decompressed_bytes};
}

int sl_openapi_write_config(const sl_config *cfg, sl_buf *out)
{
    const sl_connector_conf **cs =
        malloc((cfg->nconnectors ? cfg->nconnectors : 1) * sizeof *cs);
    if (!cs)
        return -1;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        cs[i] = &cfg->connectors[i];
    sl_openapi_intake in;
    sl_openapi_intake_of(cfg, &in);
    int rc = sl_openapi_write(&in, cs, cfg->nconnectors, out);
    free(cs);
    return rc;
}
