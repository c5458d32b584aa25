/* sl_config_gateway_keys: the gateway file's keys — the intake's
 * address and limits, its TLS, the admin address and keys, the raw-TCP
 * listeners — declared as sl_config_keys.c declares the connector's (one
 * table that parses, defaults and documents them). */
#include <limits.h>
#include <stddef.h>

#include <lua.h>

#include "sl_addr.h"
#include "sl_config_connector_rules.h"
#include "sl_config_gateway_rules.h"
#include "sl_config_keys.h"
#include "sl_config_tls.h"

#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)
/* offset of a field in the struct that a table fills */
#define GATEWAY_OFFSET(f) offsetof(sl_config_gateway_target, f)
#define LISTENER_OFFSET(f) offsetof(sl_tcp_conf, f)
#define GATEWAY_OFFSET_G(f) offsetof(sl_config_gateway_target, g.f)

/* An intake's `tls` (the gateway's and each listener's): the same keys,
 * at `at(field)` of their target. The files are checked once all keys
 * are read (sl_config_gateway_after). */
#define INTAKE_TLS_KEYS(at, timeout)                                          \
    {.name = "cert", .kind = SL_CONFIG_STRING,                                \
     .store = SL_CONFIG_STORE_STRING, .off = at(tls.cert), .required = true,  \
     .check = sl_config_check_nonempty, .doc_type = "string",                 \
     .doc_allowed = "a PEM file; relative to the gateway file's directory",   \
     .desc = "The server certificate, then any intermediates; with `tls` "    \
             "the intake speaks only TLS."},                                  \
    {.name = "key", .kind = SL_CONFIG_STRING,                                 \
     .store = SL_CONFIG_STORE_STRING, .off = at(tls.key), .required = true,   \
     .check = sl_config_check_nonempty, .doc_type = "string",                 \
     .doc_allowed = "an unencrypted PEM private key; relative to the "        \
                    "gateway file's directory",                               \
     .desc = "The private key of `cert`; must match it."},                    \
    {.name = "client_ca", .kind = SL_CONFIG_STRING,                           \
     .store = SL_CONFIG_STORE_STRING, .off = at(tls.client_ca),               \
     .check = sl_config_check_nonempty, .doc_type = "string",                 \
     .doc_allowed = "a PEM file of CA certificates; relative to the "         \
                    "gateway file's directory",                               \
     .desc = "Clients are asked for a certificate signed by one of these "    \
             "CAs; one that is given is verified (a bad one is refused in "   \
             "the handshake). Over HTTP, `intake_keys` still apply."},        \
    {.name = "require_client_cert", .kind = SL_CONFIG_BOOLEAN,                \
     .store = SL_CONFIG_STORE_BOOL, .off = at(tls.require_client_cert),       \
     .def = 0, .doc_type = "boolean",                                         \
     .desc = "Refuse, in the handshake, a client without a certificate "      \
             "signed by `client_ca` (which it needs)."},                      \
    {.name = "min_version", .kind = SL_CONFIG_ENUM,                           \
     .store = SL_CONFIG_STORE_INT, .off = at(tls.min_version), .def = 0,      \
     .choices = sl_config_tls_versions,                                       \
     .desc = "Lowest TLS version accepted. A handshake must be done "         \
             "within `" timeout "` of the connect, or the connection is "     \
             "closed."},                                                      \
    {0}

/* in the order of sl_log_level, whose values the key stores */
static const char *const log_levels[] = {"debug", "info", "warn", "error",
                                         "off", NULL};

static const sl_config_key gateway_tls_keys[] = {
    INTAKE_TLS_KEYS(GATEWAY_OFFSET_G, "request_timeout_s")};
static const sl_config_key listener_tls_keys[] = {
    INTAKE_TLS_KEYS(LISTENER_OFFSET, "line_timeout_s")};

static const sl_config_key tcp_keys[] = {
    {.name = "listen", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING, .off = LISTENER_OFFSET(listen),
     .required = true, .check = sl_addr_check_listen, .doc_type = "string",
     .doc_allowed = "`host:port` or `[v6addr]:port`, port 1-65535; not the "
                    "gateway's `listen`, not another listener's",
     .desc = "Address the listener accepts connections on."},
    {.name = "connector", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING, .off = LISTENER_OFFSET(connector),
     .required = true, .check = sl_config_check_name, .doc_type = "string",
     .doc_allowed = "the `name` of a loaded connector",
     .desc = "Connector that every line goes to: the same schema, "
             "`transform`, spool and delivery as its HTTP intake."},
    {.name = "ack", .kind = SL_CONFIG_BOOLEAN, .store = SL_CONFIG_STORE_BOOL,
     .off = LISTENER_OFFSET(ack), .def = 0, .doc_type = "boolean",
     .desc = "Answer each line, in order: `ok` once it is durable (as the "
             "connector's `durability` says), or `error` and the reason; "
             "`false` answers nothing."},
    {.name = "allow", .kind = SL_CONFIG_CUSTOM, .custom = sl_config_parse_allow,
     .ltype = LUA_TTABLE, .what = "a list of addresses",
     .defstr = "`{ \"127.0.0.0/8\", \"::1\" }`", .doc_type = "list of strings",
     .doc_allowed = "1 to 1024 IPv4 or IPv6 addresses or CIDR blocks "
                    "(`\"10.0.0.0/8\"`)",
     .desc = "Peers that may connect; any other is closed at once. Leave it "
             "out for loopback only."},
    {.name = "max_line_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = LISTENER_OFFSET(max_line_bytes),
     .def = MIB, .min = 64, .max = 64 * MIB, .unit = "bytes",
     .desc = "Longest line (one record, newline not counted); a longer one "
             "is skipped and logged as rejected."},
    {.name = "idle_timeout_s", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = LISTENER_OFFSET(idle_timeout_s),
     .def = 60, .min = 1, .max = 86400, .unit = "s",
     .desc = "A connection silent this long is closed."},
    {.name = "line_timeout_s", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = LISTENER_OFFSET(line_timeout_s),
     .def = 30, .min = 1, .max = 86400, .unit = "s",
     .desc = "A line must arrive whole within this long of its first byte; "
             "a client that trickles one (slowloris) is closed, the partial "
             "line logged as rejected. Waiting on a full spool does not "
             "count."},
    {.name = "max_connections", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = LISTENER_OFFSET(max_connections),
     .def = 1024, .min = 1, .max = 65536,
     .desc = "Connections open at once on this listener; more are closed "
             "as they arrive."},
    {.name = "tls", .kind = SL_CONFIG_TABLE, .sub = listener_tls_keys,
     .desc = "Serve this listener over TLS (and nothing else); see "
             "[Intake TLS](operations.md#intake-tls)."},
    {0}};

const sl_config_key sl_config_gateway_keys[] = {
    {.name = "listen", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING, .off = GATEWAY_OFFSET(g.listen),
     .defstr = "127.0.0.1:8080", .check = sl_addr_check_listen,
     .doc_type = "string",
     .doc_allowed = "`host:port` or `[v6addr]:port`, port 1-65535",
     .desc = "Address of the intake HTTP server."},
    {.name = "state_dir", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING, .off = GATEWAY_OFFSET(g.state_dir),
     .defstr = "var", .check = sl_config_check_nonempty, .doc_type = "string",
     .doc_allowed = "a directory path",
     .desc = "Where sluice keeps its state; a relative path is relative to "
             "the gateway file's directory."},
    {.name = "connectors", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_connectors, .ltype = LUA_TTABLE,
     .what = "a list of file names or patterns",
     .defstr = "`{ \"connectors/*.lua\" }`", .doc_type = "list of strings",
     .doc_allowed = "file names or glob(7) patterns",
     .desc = "Connector files, relative to the gateway file's directory, "
             "loaded in sorted order. A name without wildcards must exist; "
             "all patterns together must find at least one file."},
    {.name = "max_body_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = GATEWAY_OFFSET(g.max_body_bytes),
     .def = 8 * MIB, .min = KIB, .max = GIB, .unit = "bytes",
     .desc = "Largest intake request body."},
    {.name = "max_decompressed_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE,
     .off = GATEWAY_OFFSET(g.max_decompressed_bytes), .def = 64 * MIB,
     .min = KIB, .max = 4 * GIB, .unit = "bytes",
     .desc = "Largest intake body once a `Content-Encoding: gzip` body is "
             "inflated; past it the request gets 413 (a gzip bomb costs "
             "at most this much memory)."},
    {.name = "max_header_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = GATEWAY_OFFSET(g.max_header_bytes),
     .def = 64 * KIB, .min = KIB, .max = MIB, .unit = "bytes",
     .desc = "Largest request line plus headers of an intake request."},
    {.name = "max_connections", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED,
     .off = GATEWAY_OFFSET(g.max_connections), .def = 1024, .min = 1,
     .max = 65536,
     .desc = "HTTP intake connections open at once; at the limit sluice "
             "stops accepting until one closes (new clients wait in the "
             "kernel's queue)."},
    {.name = "workers", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = GATEWAY_OFFSET(g.workers),
     .def = 0, .min = 0, .max = 256,
     .desc = "Threads that do the per-record work: the event loop "
             "(intake, spool, delivery) and `workers` - 1 threads that "
             "check records (parse, transform, schema) for it; 0: one per "
             "CPU. 1: the loop does it all. Read at the start: a reload "
             "that changes it says so and keeps the running number. See "
             "[Threads](architecture.md#threads)."},
    {.name = "idle_timeout_s", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = GATEWAY_OFFSET(g.idle_timeout_s),
     .def = 60, .min = 1, .max = 86400, .unit = "s",
     .desc = "An HTTP intake connection that sends nothing for this long "
             "(kept alive between requests, or stalled) is closed."},
    {.name = "request_timeout_s", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED,
     .off = GATEWAY_OFFSET(g.request_timeout_s), .def = 30, .min = 1,
     .max = 86400, .unit = "s",
     .desc = "Time a client has to send one whole request (headers and "
             "body) from its first byte; a slower one (slowloris) is "
             "closed."},
    {.name = "log_level", .kind = SL_CONFIG_ENUM,
     .store = SL_CONFIG_STORE_INT, .off = GATEWAY_OFFSET(g.log_level),
     .def = 1, .choices = log_levels,
     .desc = "Lowest level logged by `sluice run`; its `--log-level` wins. "
             "A reload applies it (the flag wins then too). See "
             "[Logs](operations.md#logs)."},
    {.name = "admin_listen", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING, .off = GATEWAY_OFFSET(g.admin_listen),
     .check = sl_addr_check_listen, .doc_type = "string",
     .doc_allowed = "`host:port` or `[v6addr]:port`, port 1-65535; not "
                    "`listen`, not a `tcp` listener's",
     .desc = "Address of the introspection endpoints (`/metrics`, "
             "`/readyz`, `GET /v1/connectors`, the status page `/`): "
             "served there only, the intake's address answering 404 for "
             "them; `/healthz` is on both. Left out, they are on `listen`. "
             "See "
             "[Admin address](operations.md#admin-address)."},
    {.name = "admin_keys", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_admin_keys, .ltype = LUA_TTABLE,
     .what = "a list of strings", .defstr = "none",
     .doc_type = "list of strings",
     .doc_allowed = "1 to 16 keys of 16 to 1024 visible ASCII characters",
     .desc = "The introspection endpoints (all but `/healthz`) need one of "
             "these as `Authorization: Bearer <key>`, or answer 401. Read "
             "them with `sluice.env`; they are never shown or logged."},
    {.name = "tls", .kind = SL_CONFIG_TABLE, .sub = gateway_tls_keys,
     .desc = "Serve the HTTP intake over HTTPS (and nothing else); see "
             "[Intake TLS](operations.md#intake-tls)."},
    {.name = "tcp", .kind = SL_CONFIG_CUSTOM, .custom = sl_config_parse_tcp,
     .sub = tcp_keys, .ltype = LUA_TTABLE, .what = "a list of listener tables",
     .defstr = "none", .doc_type = "list of tables",
     .doc_allowed = "0 to 64 listeners; see `tcp[n].*` below",
     .desc = "Raw-TCP listeners, each taking NDJSON (one JSON record per "
             "line) into a connector; see [TCP listeners](#tcp-listeners)."},
    {0}};
