/* sl_config_diff: field-by-field comparison of two configurations (see
 * sl_config_diff.h). */
#include "sl_config_diff.h"

#include <string.h>

#include "sl_schema.h"

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int headers_eq(const sl_connector_conf *a, const sl_connector_conf *b)
{
    if (a->nheaders != b->nheaders)
        return 0;
    for (size_t i = 0; i < a->nheaders; i++)
        if (!str_eq(a->headers[i].name, b->headers[i].name) ||
            !str_eq(a->headers[i].value, b->headers[i].value))
            return 0;
    return 1;
}

static int strv_eq(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(a[i], b[i]))
            return 0;
    return 1;
}

static int proxy_eq(const sl_proxy_setting *a, const sl_proxy_setting *b)
{
    return a->source == b->source && str_eq(a->value, b->value);
}

static int tls_eq(const sl_tls_conf *a, const sl_tls_conf *b)
{
    return str_eq(a->cert, b->cert) && str_eq(a->key, b->key) &&
           str_eq(a->client_ca, b->client_ca) &&
           a->require_client_cert == b->require_client_cert &&
           a->min_version == b->min_version;
}

/* Appends `name` to out when !same; the running count in *n. */
static int note(int same, const char *name, sl_buf *out, int *n)
{
    if (same)
        return 0;
    if (sl_buf_printf(out, "%s%s", *n ? ", " : "", name) != 0)
        return -1;
    (*n)++;
    return 0;
}

int sl_config_diff_schema(const sl_connector_conf *a,
                          const sl_connector_conf *b)
{
    char fa[17], fb[17];
    sl_schema_fingerprint(a->schema, fa);
    sl_schema_fingerprint(b->schema, fb);
    return strcmp(fa, fb) != 0;
}

int sl_config_diff_connector(const sl_connector_conf *a,
                             const sl_connector_conf *b, sl_buf *out)
{
    int n = 0;
    struct {
        int same;
        const char *name;
    } g[] = {
        {str_eq(a->url, b->url), "url"},
        {str_eq(a->method, b->method), "method"},
        {headers_eq(a, b), "headers"},
        {a->body == b->body && a->compression == b->compression &&
             a->compression_level == b->compression_level,
         "body"},
        {a->batch_max_records == b->batch_max_records &&
             a->batch_max_bytes == b->batch_max_bytes &&
             a->batch_max_delay_ms == b->batch_max_delay_ms,
         "batch"},
        {a->timeout_ms == b->timeout_ms, "timeout"},
        {a->concurrency == b->concurrency &&
             a->concurrency_adaptive == b->concurrency_adaptive &&
             a->max_concurrency == b->max_concurrency,
         "concurrency"},
        {a->rate_requests_per_s == b->rate_requests_per_s &&
             a->rate_records_per_s == b->rate_records_per_s &&
             a->rate_burst == b->rate_burst,
         "rate_limit"},
        {a->retry_base_ms == b->retry_base_ms &&
             a->retry_max_ms == b->retry_max_ms &&
             a->retry_max_elapsed_s == b->retry_max_elapsed_s &&
             a->on_permanent == b->on_permanent,
         "retry"},
        {(a->status == NULL) == (b->status == NULL), "status"},
        {a->ordered == b->ordered, "ordered"},
        {str_eq(a->idempotency_header, b->idempotency_header),
         "idempotency"},
        {a->durability == b->durability &&
             a->queue_max_bytes == b->queue_max_bytes &&
             a->spool_max_bytes == b->spool_max_bytes &&
             a->spool_segment_bytes == b->spool_segment_bytes &&
             a->spool_cache_bytes == b->spool_cache_bytes,
         "durability"},
        {strv_eq(a->intake_keys, a->nintake_keys, b->intake_keys,
                 b->nintake_keys),
         "intake_keys"},
        {a->limit_record_bytes == b->limit_record_bytes &&
             a->limit_string_bytes == b->limit_string_bytes &&
             a->limit_fields == b->limit_fields &&
             a->limit_depth == b->limit_depth &&
             a->limit_records == b->limit_records,
         "limits"},
        {a->lua_max_instructions == b->lua_max_instructions &&
             a->lua_max_memory == b->lua_max_memory &&
             a->max_response_bytes == b->max_response_bytes &&
             (a->transform_ref > 0) == (b->transform_ref > 0) &&
             (a->headers_fn_ref > 0) == (b->headers_fn_ref > 0) &&
             (a->response_fn_ref > 0) == (b->response_fn_ref > 0),
         "lua"},
        {str_eq(a->tls_ca_file, b->tls_ca_file) &&
             str_eq(a->tls_ca_path, b->tls_ca_path) &&
             str_eq(a->tls_client_cert, b->tls_client_cert) &&
             str_eq(a->tls_client_key, b->tls_client_key) &&
             str_eq(a->tls_key_password, b->tls_key_password) &&
             str_eq(a->tls_server_name, b->tls_server_name) &&
             a->tls_verify == b->tls_verify &&
             a->tls_min_version == b->tls_min_version,
         "tls"},
        {proxy_eq(&a->proxy_http, &b->proxy_http) &&
             proxy_eq(&a->proxy_https, &b->proxy_https) &&
             proxy_eq(&a->no_proxy, &b->no_proxy) &&
             str_eq(a->proxy_ca_file, b->proxy_ca_file),
         "proxy"},
        {a->degraded_after_s == b->degraded_after_s, "health"},
        {!sl_config_diff_schema(a, b), "schema"},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        if (note(g[i].same, g[i].name, out, &n) != 0)
            return -1;
    /* the rest of the text: functions, templates, status lists, comments */
    if (n == 0 && note(a->file_hash == b->file_hash, "file", out, &n) != 0)
        return -1;
    return n;
}

static int tcp_eq(const sl_tcp_conf *a, const sl_tcp_conf *b);

int sl_config_diff_tcp(const sl_tcp_conf *a, const sl_tcp_conf *b)
{
    return !tcp_eq(a, b);
}

static int tcp_eq(const sl_tcp_conf *a, const sl_tcp_conf *b)
{
    return str_eq(a->listen, b->listen) && str_eq(a->connector, b->connector) &&
           a->ack == b->ack &&
           strv_eq(a->allow, a->nallow, b->allow, b->nallow) &&
           a->max_line_bytes == b->max_line_bytes &&
           a->idle_timeout_s == b->idle_timeout_s &&
           a->line_timeout_s == b->line_timeout_s &&
           a->max_connections == b->max_connections && tls_eq(&a->tls, &b->tls);
}

/* The same admin address and the same admin keys, in order. */
static int admin_eq(const sl_config *a, const sl_config *b)
{
    if (!str_eq(a->admin_listen, b->admin_listen) ||
        a->nadmin_keys != b->nadmin_keys)
        return 0;
    for (size_t i = 0; i < a->nadmin_keys; i++)
        if (strcmp(a->admin_keys[i], b->admin_keys[i]) != 0)
            return 0;
    return 1;
}

int sl_config_diff_gateway(const sl_config *a, const sl_config *b,
                           sl_buf *out)
{
    int n = 0;
    int tcp_same = a->ntcp == b->ntcp;
    for (size_t i = 0; tcp_same && i < a->ntcp; i++)
        tcp_same = tcp_eq(&a->tcp[i], &b->tcp[i]);
    if (note(str_eq(a->listen, b->listen), "listen", out, &n) != 0 ||
        note(str_eq(a->state_dir, b->state_dir), "state_dir", out, &n) != 0 ||
        note(a->max_body_bytes == b->max_body_bytes &&
                 a->max_decompressed_bytes == b->max_decompressed_bytes &&
                 a->max_header_bytes == b->max_header_bytes &&
                 a->max_connections == b->max_connections &&
                 a->idle_timeout_s == b->idle_timeout_s &&
                 a->request_timeout_s == b->request_timeout_s,
             "limits", out, &n) != 0 ||
        note(tls_eq(&a->tls, &b->tls), "tls", out, &n) != 0 ||
        note(tcp_same, "tcp", out, &n) != 0 ||
        note(admin_eq(a, b), "admin", out, &n) != 0 ||
        note(a->log_level == b->log_level, "log_level", out, &n) != 0)
        return -1;
    return n;
}
