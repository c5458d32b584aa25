/* sl_config_print: the two outputs made from the configuration: the
 * Markdown key reference from the key tables of sl_config_keys.c
 * (`sluice keys`, and docs/connectors.md) and the `sluice check` printout
 * of a loaded config. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_config_print.h"
#include "sl_buf.h"
#include "sl_config_keys.h"
#include "sl_config_tls.h"
#include "sl_luahost.h"
#include "sl_proxy.h"
#include "sl_schema.h"
#include "sl_status_lists.h"
#include "sl_tls_files.h"

#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)

/* "1048576 (1 MiB)" for round sizes, else the number. */
static const char *size_text(char *buf, size_t n, unsigned long long v)
{
    static const struct { long long f; const char *u; } units[] = {
        {GIB, "GiB"}, {MIB, "MiB"}, {KIB, "KiB"}};
    for (size_t i = 0; i < 3; i++)
        if (v >= (unsigned long long)units[i].f && v % units[i].f == 0) {
            snprintf(buf, n, "%llu (%llu %s)", v, v / units[i].f, units[i].u);
            return buf;
        }
    snprintf(buf, n, "%llu", v);
    return buf;
}

static const char *unit_text(char *buf, size_t n, long long v, const char *u)
{
    if (u && !strcmp(u, "bytes") && v >= KIB && v % KIB == 0)
        snprintf(buf, n, v % GIB == 0 ? "%lld GiB" : v % MIB == 0 ? "%lld MiB"
                                                                  : "%lld KiB",
                 v / (v % GIB == 0 ? GIB : v % MIB == 0 ? MIB : KIB));
    else
        snprintf(buf, n, "%lld%s%s", v, u ? " " : "", u ? u : "");
    return buf;
}

static void reference_rows(FILE *out, const sl_config_key *keys,
                           const char *prefix)
{
    char def[96], lo[48], hi[48];
    for (const sl_config_key *key = keys; key->name; key++) {
        const char *type = key->doc_type;
        fprintf(out, "| `%s%s` | ", prefix, key->name);
        switch (key->kind) {
        case SL_CONFIG_INTEGER:
            if (key->unit && !strcmp(key->unit, "bytes"))
                size_text(def, sizeof def, (unsigned long long)key->def);
            else
                snprintf(def, sizeof def, "%lld", key->def);
            fprintf(out, "integer | %s | ", def);
            if (key->max == LLONG_MAX)
                fprintf(out, "at least %s | ",
                        unit_text(lo, sizeof lo, key->min, key->unit));
            else
                fprintf(out, "%s .. %s | ",
                        unit_text(lo, sizeof lo, key->min,
                                  key->unit && !strcmp(key->unit, "bytes")
                                      ? key->unit : NULL),
                        unit_text(hi, sizeof hi, key->max, key->unit));
            break;
        case SL_CONFIG_ENUM:
            fprintf(out, "string | `\"%s\"` | ", key->choices[key->def]);
            for (const char *const *c = key->choices; *c; c++)
                fprintf(out, "%s`\"%s\"`", c == key->choices ? "" : ", ", *c);
            fprintf(out, " | ");
            break;
        case SL_CONFIG_TABLE:
            fprintf(out, "table | | see `%s%s.*` below | ", prefix,
                    key->name);
            break;
        case SL_CONFIG_BOOLEAN:
            fprintf(out, "%s | `%s` | `true`, `false` | ", type,
                    key->def ? "true" : "false");
            break;
        default:
            if (key->required)
                fprintf(out, "%s | **required** | %s | ", type,
                        key->doc_allowed);
            else if (key->kind == SL_CONFIG_STRING && !key->defstr)
                fprintf(out, "%s | none | %s | ", type, key->doc_allowed);
            else if (key->kind == SL_CONFIG_STRING)
                fprintf(out, "%s | `\"%s\"` | %s | ", type, key->defstr,
                        key->doc_allowed);
            else
                fprintf(out, "%s | %s | %s | ", type, key->defstr,
                        key->doc_allowed);
        }
        fprintf(out, "%s |\n", key->desc);
        if (key->kind == SL_CONFIG_TABLE ||
            (key->kind == SL_CONFIG_CUSTOM && key->sub &&
             !key->doc_sub_apart)) {
            /* a list of tables shows its element keys as tcp[n].listen */
            char sub[64];
            snprintf(sub, sizeof sub, "%s%s%s.", prefix, key->name,
                     key->kind == SL_CONFIG_CUSTOM && !key->doc_sub_one
                         ? "[n]" : "");
            reference_rows(out, key->sub, sub);
        }
    }
}

static void reference_table(FILE *out, const char *title, const char *intro,
                            const sl_config_key *keys)
{
    fprintf(out, "### %s\n\n%s\n\n", title, intro);
    fprintf(out, "| Key | Type | Default | Allowed | Meaning |\n");
    fprintf(out, "| --- | --- | --- | --- | --- |\n");
    reference_rows(out, keys, "");
    fprintf(out, "\n");
}

void sl_config_print_reference(FILE *out)
{
    fprintf(out, "<!-- generated by sl_config_print_reference() from the key "
            "tables in core/config/sl_config_keys.c; edit those, not "
            "this -->\n\n");
    reference_table(out, "Gateway keys",
                    "The table returned by the gateway file "
                    "(`conf/sluice.lua`).", sl_config_gateway_keys);
    reference_table(out, "Connector keys",
                    "The table returned by each connector file.",
                    sl_config_connector_keys);
    reference_table(out, "Schema fields",
                    "Each element of `schema`, as in "
                    "`{ name = \"id\", type = \"integer\" }`.",
                    sl_config_field_keys);
}

bool sl_config_header_is_secret(const char *name)
{
    static const char *const words[] = {"authorization", "token", "secret",
                                        "key", "signature", "password",
                                        "cookie", NULL};
    for (const char *const *w = words; *w; w++)
        if (strcasestr(name, *w))
            return true;
    return false;
}

/* "yes (crm.lua:14)": where the function at registry ref `ref` of L is
 * defined, by file name; a function from a required module names that
 * module's file. */
static void print_function(FILE *out, const char *label,
                           const sl_connector_conf *connector, int ref)
{
    lua_Debug ar;
    if (!connector->L || ref == LUA_NOREF || ref == LUA_REFNIL) {
        fprintf(out, "  %-15s no\n", label);
        return;
    }
    lua_rawgeti(connector->L, LUA_REGISTRYINDEX, ref); /* fn */
    lua_getinfo(connector->L, ">S", &ar);              /* (fn popped) */
    if (ar.linedefined <= 0) {
        fprintf(out, "  %-15s yes (a C function)\n", label);
        return;
    }
    const char *src =
        ar.short_src[0] == SL_LUAHOST_CHUNK[1] ? connector->file : ar.short_src;
    const char *base = strrchr(src, '/');
    fprintf(out, "  %-15s yes (%s:%d)\n", label, base ? base + 1 : src,
            ar.linedefined);
}

static const char *const body_ctype[] = {
    "application/json", "application/json", "application/x-ndjson"};

static void print_durability(FILE *out, const sl_connector_conf *connector)
{
    char b1[64], b2[64];
    switch (connector->durability) {
    case 0:
        fprintf(out, "  durability      fsync: answered once on disk "
                "(fdatasync, group commit)\n");
        break;
    case 1:
        fprintf(out, "  durability      os: answered once written; a crash of "
                "the machine can lose the last seconds\n");
        break;
    default:
        fprintf(out, "  durability      memory: NOT durable; records are lost "
                "if sluice stops or crashes\n");
        fprintf(out, "  queue_max_bytes %s\n",
                size_text(b1, sizeof b1, connector->queue_max_bytes));
        return;
    }
    char b3[64];
    fprintf(out, "  spool           max %s, segments of %s, cache %s\n",
            size_text(b1, sizeof b1, connector->spool_max_bytes),
            size_text(b2, sizeof b2, connector->spool_segment_bytes),
            size_text(b3, sizeof b3, connector->spool_cache_bytes));
}

/* An intake's TLS, in two lines under `label`: the certificate (subject,
 * expiry, said loudly when it has expired or soon will), the client
 * certificates it asks for, the lowest version. */
static void print_tls(FILE *out, const char *label, const sl_tls_conf *tls)
{
    char why[640];
    sl_tls_files_info info;
    if (!tls->cert) {
        fprintf(out, "%s plain (no tls)\n", label);
        return;
    }
    fprintf(out, "%s cert %s", label, tls->cert);
    if (sl_tls_files_info_of(tls->cert, &info, why, sizeof why) != 0) {
        fprintf(out, " (%s)\n", why);
    } else {
        sl_tls_files_expiry e = sl_tls_files_expiry_at(
            info.expires, time(NULL), SL_TLS_FILES_WARN_DAYS);
        fprintf(out, " (%s; expires %s", info.subject, info.not_after);
        if (e == SL_TLS_FILES_EXPIRED)
            fprintf(out, ": EXPIRED, clients will refuse it");
        else if (e == SL_TLS_FILES_EXPIRING)
            fprintf(out, ": within %d days, renew it", SL_TLS_FILES_WARN_DAYS);
        fprintf(out, ")\n");
    }
    fprintf(out, "%*s key %s; ", (int)strlen(label), "", tls->key);
    if (tls->client_ca)
        fprintf(out, "client_ca %s (%s); ", tls->client_ca,
                tls->require_client_cert ? "require_client_cert: clients "
                "without one are refused" : "a client certificate is asked "
                "for, verified if given");
    else
        fprintf(out, "no client certificates; ");
    fprintf(out, "TLS %s or later\n",
            sl_config_tls_versions[tls->min_version == 1 ? 1 : 0]);
}

static void print_gateway(FILE *out, const sl_config *config)
{
    char b1[64];
    fprintf(out, "gateway %s\n", config->file);
    fprintf(out, "  listen          %s\n", config->listen);
    if (config->admin_listen)
        fprintf(out, "  admin_listen    %s (/metrics, /readyz, GET "
                "/v1/connectors, /; not on listen)\n", config->admin_listen);
    else
        fprintf(out, "  admin_listen    the intake's address (listen)\n");
    if (config->nadmin_keys)
        fprintf(out, "  admin_keys      %zu key%s (values hidden): "
                "Authorization: Bearer <key>\n", config->nadmin_keys,
                config->nadmin_keys == 1 ? "" : "s");
    else
        fprintf(out, "  admin_keys      none (the introspection routes are "
                "open)\n");
    fprintf(out, "  state_dir       %s\n", config->state_dir);
    fprintf(out, "  max_body_bytes  %s\n",
            size_text(b1, sizeof b1, config->max_body_bytes));
    fprintf(out, "  max_decompressed_bytes %s (Content-Encoding: gzip)\n",
            size_text(b1, sizeof b1, config->max_decompressed_bytes));
    fprintf(out, "  http            headers up to %s, %u connection%s, idle "
            "%u s, a request within %u s\n",
            size_text(b1, sizeof b1, config->max_header_bytes),
            config->max_connections, config->max_connections == 1 ? "" : "s",
            config->idle_timeout_s, config->request_timeout_s);
    print_tls(out, "  tls            ", &config->tls);
    if (config->workers == 0)
        fprintf(out, "  workers         0 (one per CPU)\n");
    else if (config->workers == 1)
        fprintf(out, "  workers         1 (records checked on the loop "
                "thread)\n");
    else
        fprintf(out, "  workers         %u (threads checking records)\n",
                config->workers);
    static const char *const levels[] = {"debug", "info", "warn", "error",
                                         "off"};
    if (config->log_level >= 0 && config->log_level <= 4)
        fprintf(out, "  log_level       %s\n", levels[config->log_level]);
    fprintf(out, "  connectors      %zu\n", config->nconnectors);
}

static void print_listener(FILE *out, const sl_tcp_conf *listener)
{
    fprintf(out, "  tcp %s -> %s (ack %s; allow ", listener->listen,
            listener->connector, listener->ack ? "on" : "off");
    for (size_t a = 0; a < listener->nallow; a++)
        fprintf(out, "%s%s", a ? ", " : "", listener->allow[a]);
    fprintf(out, "; lines up to %zu bytes, whole within %u s; idle %u s; "
            "%u connection%s)\n",
            listener->max_line_bytes, listener->line_timeout_s,
            listener->idle_timeout_s, listener->max_connections,
            listener->max_connections == 1 ? "" : "s");
    if (listener->tls.cert)
        print_tls(out, "    tls", &listener->tls);
}

/* A template's compact form, its slots by name, on one line. */
static void print_template(FILE *out, const char *label, const sl_template *t)
{
    size_t n;
    const sl_template_part *p = sl_template_parts(t, &n);
    fprintf(out, "    %-15s ", label);
    for (size_t i = 0; i < n; i++) {
        fwrite(p[i].lit, 1, p[i].len, out);
        fputs(sl_template_slot_name(p[i].slot), out);
    }
    fputc('\n', out);
}

/* rate_limit: each rate as given and as a spacing, and the burst. */
static void print_rate_limit(FILE *out, const sl_connector_conf *c)
{
    fprintf(out, "  rate_limit      ");
    if (c->rate_requests_per_s > 0)
        fprintf(out, "%.6g requests/s (one per %.6g ms), ",
                c->rate_requests_per_s, 1000 / c->rate_requests_per_s);
    if (c->rate_records_per_s > 0)
        fprintf(out, "%.6g records/s, ", c->rate_records_per_s);
    fprintf(out, "burst %.6g; retries count\n", c->rate_burst);
}

/* The connector's delivery: request, body, batching, retries. */
/* The `status` lists: "success 201 409; retry 400". */
static void print_status(FILE *out, const sl_status_lists *l)
{
    long codes[SL_STATUS_LISTS_MAX - SL_STATUS_LISTS_MIN + 1];
    const char *sep = "";
    fprintf(out, "  status          ");
    for (int list = SL_STATUS_LIST_SUCCESS; list <= SL_STATUS_LIST_PERMANENT;
         list++) {
        size_t n = sl_status_lists_codes(l, (sl_status_list)list, codes,
                                         sizeof codes / sizeof *codes);
        if (!n)
            continue;
        fprintf(out, "%s%s", sep, sl_status_lists_name((sl_status_list)list));
        for (size_t i = 0; i < n; i++)
            fprintf(out, " %ld", codes[i]);
        sep = "; ";
    }
    fprintf(out, " (overriding the default classes)\n");
}

static void print_delivery(FILE *out, const sl_connector_conf *connector)
{
    fprintf(out, "  request         %s %s\n", connector->method,
            connector->url);
    fprintf(out, "  body            %s (Content-Type: %s)\n",
            sl_config_body_choices[connector->body],
            body_ctype[connector->body]);
    if (connector->compression != SL_COMPRESSION_NONE)
        fprintf(out, "  compression     %s, level %d (Content-Encoding: %s)\n",
                sl_config_compression_choices[connector->compression],
                connector->compression_level,
                sl_config_compression_choices[connector->compression]);
    if (connector->record_template)
        print_template(out, "record_template", connector->record_template);
    if (connector->body_template)
        print_template(out, "template", connector->body_template);
    fprintf(out, "  unknown_fields  %s\n",
            sl_config_unknown_choices[sl_schema_policy(connector->schema)]);
    if (connector->body == SL_BODY_OBJECT)
        fprintf(out, "  batch           one record per request (body form "
                "\"object\")\n");
    else
        fprintf(out, "  batch           max %zu records, max %zu bytes, "
                "max delay %u ms\n", connector->batch_max_records,
                connector->batch_max_bytes, connector->batch_max_delay_ms);
    fprintf(out, "  timeout_ms      %u\n", connector->timeout_ms);
    if (connector->concurrency_adaptive)
        fprintf(out, "  concurrency     adaptive (1 to %u)\n",
                connector->max_concurrency);
    else
        fprintf(out, "  concurrency     %u\n", connector->concurrency);
    if (connector->rate_requests_per_s > 0 || connector->rate_records_per_s > 0)
        print_rate_limit(out, connector);
    fprintf(out, "  retry           backoff %u ms doubling up to %u ms, "
            "with jitter; ", connector->retry_base_ms,
            connector->retry_max_ms);
    if (connector->retry_max_elapsed_s)
        fprintf(out, "dead letters after %u s\n",
                connector->retry_max_elapsed_s);
    else
        fprintf(out, "forever\n");
    fprintf(out, "  degraded after  %u s of failing attempts\n",
            connector->degraded_after_s);
    fprintf(out, "  on_permanent    %s%s\n",
            sl_config_on_permanent_choices[connector->on_permanent],
            connector->ordered ? "; ordered (one request in flight)" : "");
    if (connector->status)
        print_status(out, connector->status);
    fprintf(out, "  idempotency     %s\n", connector->idempotency_header
                                              ? connector->idempotency_header
                                              : "off");
}

const char *sl_config_print_proxy(const sl_proxy_setting *s, const char *key,
                                  char *buf, size_t n)
{
    char shown[256];
    if (s->value)
        sl_proxy_mask(s->value, shown, sizeof shown);
    switch (s->source) {
    case SL_PROXY_FROM_KEY:
        snprintf(buf, n, "%s (connector key %s)", shown, key);
        break;
    case SL_PROXY_FROM_ENV:
        snprintf(buf, n, "%s (environment %s)", shown, s->var);
        break;
    case SL_PROXY_FROM_OFF:
        snprintf(buf, n, "none (proxy = false: the environment is ignored)");
        break;
    default:
        snprintf(buf, n, "none");
    }
    return buf;
}

static void print_proxy_setting(FILE *out, const sl_proxy_setting *s,
                                const char *key)
{
    char text[320];
    fprintf(out, "%s\n", sl_config_print_proxy(s, key, text, sizeof text));
}

static bool same_setting(const sl_proxy_setting *a, const sl_proxy_setting *b)
{
    return a->source == b->source && a->var == b->var &&
           (a->value == b->value ||
            (a->value && b->value && strcmp(a->value, b->value) == 0));
}

/* HTTP version, proxy (masked) and no_proxy, each with its origin. */
static void print_transport(FILE *out, const sl_connector_conf *connector)
{
    bool https = strncasecmp(connector->url, "https:", 6) == 0;
    const sl_proxy_setting *mine =
        https ? &connector->proxy_https : &connector->proxy_http;
    const sl_proxy_setting *other =
        https ? &connector->proxy_http : &connector->proxy_https;
    switch (connector->transport.http_version) {
    case SL_TRANSPORT_HTTP_1_1:
        fprintf(out, "  http_version    1.1 (HTTP/2 not offered)\n");
        break;
    case SL_TRANSPORT_HTTP_2:
        if (https)
            fprintf(out, "  http_version    2 (negotiated over TLS, else "
                    "HTTP/1.1; concurrent batches share one connection)\n");
        else
            fprintf(out, "  http_version    2 (prior knowledge over http://: "
                    "the destination must speak HTTP/2 without TLS; %s)\n",
                    sl_transport_h2c_reuses()
                        ? "concurrent batches share one connection"
                        : "a connection per request: this libcurl, older "
                          "than 8.0.0, cannot reuse one");
        break;
    default:
        fprintf(out, "  http_version    auto (%s)\n", https
                ? "HTTP/2 when the destination offers it, else HTTP/1.1"
                : "HTTP/1.1 over http://; \"2\" for HTTP/2 without TLS");
    }
    fprintf(out, "  proxy           ");
    print_proxy_setting(out, mine, "proxy");
    if (!same_setting(mine, other)) {
        fprintf(out, "    for %s URLs  ", https ? "http://" : "https://");
        print_proxy_setting(out, other, "proxy");
    }
    if (connector->proxy_ca_file) {
        sl_tls_files_info info;
        fprintf(out, "  proxy ca_file   %s", connector->proxy_ca_file);
        if (sl_tls_files_info_of(connector->proxy_ca_file, &info, NULL, 0) ==
            0)
            fprintf(out, " (%zu certificate%s: %s)", info.ncerts,
                    info.ncerts == 1 ? "" : "s, the first", info.subject);
        fputc('\n', out);
    }
    if (connector->no_proxy.value) {
        fprintf(out, "  no_proxy        ");
        print_proxy_setting(out, &connector->no_proxy, "no_proxy");
    }
}

/* The static headers (secret-looking values masked) and the schema. */
static void print_headers_schema(FILE *out,
                                 const sl_connector_conf *connector)
{
    const sl_schema *schema = connector->schema;
    fprintf(out, "  headers%s\n",
            connector->nheaders ? "" : "         (none)");
    for (size_t h = 0; h < connector->nheaders; h++)
        fprintf(out, "    %s: %s\n", connector->headers[h].name,
                sl_config_header_is_secret(connector->headers[h].name)
                    ? "****" : connector->headers[h].value);
    size_t nfields = sl_schema_nfields(schema), width = strlen("field");
    for (size_t f = 0; f < nfields; f++)
        if (strlen(sl_schema_field_name(schema, f)) > width)
            width = strlen(sl_schema_field_name(schema, f));
    fprintf(out, "  schema          %zu field%s\n", nfields,
            nfields == 1 ? "" : "s");
    fprintf(out, "    %-*s  %-8s  %s\n", (int)width, "field", "type",
            "nullable");
    for (size_t f = 0; f < nfields; f++) {
        const sl_schema_rules_set *set =
            sl_schema_node_rules(sl_schema_field(schema, f));
        char rules[160] = "";
        if (set)
            sl_schema_rules_describe(set, rules, sizeof rules);
        fprintf(out, *rules ? "    %-*s  %-8s  %-3s       %s\n"
                            : "    %-*s  %-8s  %s%s\n",
                (int)width, sl_schema_field_name(schema, f),
                sl_schema_type_name(sl_schema_field_type(schema, f)),
                sl_schema_field_nullable(schema, f) ? "yes" : "no", rules);
        /* an object's or array's parts on a line of their own */
        sl_buf parts;
        sl_buf_init(&parts, 1 << 20);
        if (sl_schema_field_shape(schema, f, &parts) == 0 && parts.len)
            fprintf(out, "    %-*s  %.*s\n", (int)width, "",
                    (int)parts.len, parts.data);
        sl_buf_free(&parts);
    }
}

void sl_config_print_connector(const sl_connector_conf *connector, FILE *out)
{
    char b1[64], b2[64];
    fprintf(out, "\nconnector %s (%s)\n", connector->name, connector->file);
    print_delivery(out, connector);
    sl_config_tls_print(connector, out);
    print_transport(out, connector);
    print_durability(out, connector);
    if (connector->nintake_keys)
        fprintf(out, "  intake_keys     %zu key%s (values hidden): "
                "Authorization: Bearer <key>\n", connector->nintake_keys,
                connector->nintake_keys == 1 ? "" : "s");
    else
        fprintf(out, "  intake_keys     none: the intake is open to "
                "anyone who can reach it\n");
    print_function(out, "transform", connector, connector->transform_ref);
    print_function(out, "headers_fn", connector, connector->headers_fn_ref);
    print_function(out, "response_fn", connector, connector->response_fn_ref);
    fprintf(out, "  max_response_bytes %s of an answer shown to "
            "response_fn\n",
            size_text(b1, sizeof b1, connector->max_response_bytes));
    fprintf(out, "  lua             max %lu instructions per call, max "
            "%zu MiB\n", connector->lua_max_instructions,
            connector->lua_max_memory >> 20);
    fprintf(out, "  limits          records of %s, strings of %s, %zu "
            "fields, depth %d, %zu records per request\n",
            size_text(b1, sizeof b1, connector->limit_record_bytes),
            size_text(b2, sizeof b2, connector->limit_string_bytes),
            connector->limit_fields, connector->limit_depth,
            connector->limit_records);
    print_headers_schema(out, connector);
    for (size_t i = 0; i < connector->nwarnings; i++)
        fprintf(out, "WARNING: %s\n", connector->warnings[i]);
}

void sl_config_print_gateway(const sl_config *config, FILE *out)
{
    print_gateway(out, config);
    for (size_t i = 0; i < config->ntcp; i++)
        print_listener(out, &config->tcp[i]);
}

void sl_config_print(const sl_config *config, FILE *out)
{
    sl_config_print_gateway(config, out);
    for (size_t i = 0; i < config->nconnectors; i++)
        sl_config_print_connector(&config->connectors[i], out);
}
