-- Contacts for a CRM: records are checked against the schema, batched as a
-- JSON array and POSTed to the CRM's bulk endpoint. The demo runs a local
-- sink on 127.0.0.1:9000; point `url` at the real API in production.
return {
  name = "crm_contacts",
  url = "http://127.0.0.1:9000/v1/contacts",
  method = "POST",

  headers = {
    ["X-Source"] = "sluice",
    -- Read at load time; `sluice check` masks it. Without a default, a
    -- missing variable would stop `sluice check` with this file and line.
    Authorization = "Bearer " .. sluice.env("CRM_TOKEN", "demo-token"),
  },

  schema = {
    { name = "id",         type = "integer" },
    { name = "email",      type = "string" },
    { name = "name",       type = "string" },
    { name = "amount",     type = "number",   nullable = true },
    { name = "active",     type = "boolean" },
    { name = "created_at", type = "datetime" },
    { name = "birthday",   type = "date",     nullable = true },
  },
  unknown_fields = "reject",   -- or "drop"
  body = "array",              -- [ {...}, {...} ]

  -- A batch goes out when the first of these is reached.
  batch = { max_records = 500, max_bytes = 1048576, max_delay_ms = 200 },
  timeout_ms = 10000,
  concurrency = 4,
  -- HTTP/2 when an https:// CRM offers it: the concurrent batches then
  -- share one connection. "1.1" never; "2" also over http:// (h2c).
  http_version = "auto",
  -- Without `proxy`, http_proxy/HTTPS_PROXY/... of the environment apply;
  -- false ignores them. `sluice check` shows the proxy, password as ***.
  -- proxy = { url = "http://proxy.corp.example:3128",
  --           user = sluice.env("PROXY_USER"),
  --           password = sluice.env("PROXY_PASSWORD") },
  -- no_proxy = { "internal.example.com", "10.0.0.0/8" },
  -- Transient failures (408, 429, 5xx, network) are retried with backoff;
  -- after max_elapsed_s the records go to the dead letters
  -- (`sluice dlq list crm_contacts`).
  retry = { base_ms = 200, max_ms = 30000, max_elapsed_s = 86400 },
  -- A permanent 4xx: halve the batch until the bad records are isolated.
  on_permanent = "bisect",
  -- The CRM dedupes retried batches on this header.
  idempotency_header = "Idempotency-Key",

  -- Answer the caller once the records are fsynced to the spool in
  -- conf/var/crm_contacts/ ("os": once written; "memory": no spool).
  durability = "fsync",
  spool = { max_bytes = 1073741824, segment_bytes = 67108864 },
}
