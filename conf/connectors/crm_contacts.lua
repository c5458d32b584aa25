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
  retry = { base_ms = 200, max_ms = 30000 },
}
