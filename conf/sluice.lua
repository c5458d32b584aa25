-- sluice gateway configuration. `sluice check` validates this file and every
-- connector file it names; docs/connectors.md lists every key.
-- Relative paths are relative to this file's directory.
return {
  -- Address of the intake HTTP server ("host:port" or "[v6addr]:port").
  listen = "127.0.0.1:8080",

  -- Where sluice keeps its state (spools, schema locks).
  state_dir = "var",

  -- Connector files to load: file names or glob patterns, loaded in sorted
  -- order. Each file returns one connector table.
  connectors = { "connectors/*.lua" },

  -- Largest intake request body, in bytes (default 8 MiB).
  max_body_bytes = 8388608,

  -- Introspection (/metrics, /readyz, GET /v1/connectors, the status page
  -- at /) on an address of its own, behind bearer keys; /healthz stays on
  -- both (docs/operations.md, "Admin address"). Left out: all on `listen`,
  -- open.
  -- admin_listen = "127.0.0.1:9090",
  -- admin_keys = { sluice.env("SLUICE_ADMIN_KEY") },

  -- HTTPS on the intake (docs/operations.md, "Intake TLS"); the same table
  -- as tcp[n].tls serves a TCP listener over TLS. Paths are relative to
  -- this file's directory.
  -- tls = { cert = "tls/intake.pem", key = "tls/intake.key",
  --         client_ca = "tls/clients.pem", require_client_cert = false,
  --         min_version = "1.2" },

  -- Raw-TCP listeners: NDJSON, one record per line, into a connector
  -- (docs/connectors.md, "TCP listeners"). Try it, with `sluice run`:
  --   nc 127.0.0.1 5170 < conf/samples/events.ndjson
  tcp = {
    { listen = "127.0.0.1:5170", connector = "events",
      -- answer each line "ok" once durable (default false)
      ack = false,
      -- peers that may connect; leave out for loopback only
      allow = { "127.0.0.1", "::1" },
      -- defaults: max_line_bytes = 1048576, idle_timeout_s = 60,
      -- max_connections = 1024
    },
  },
}
