-- Users for a REST API that takes one resource per request: each record is
-- PUT to its own URL, /v1/users/{id}, filled from the record's `id` (an
-- upsert; a retried PUT is harmless). The values are percent-encoded as one
-- path segment, so an id like "a/b c" becomes /v1/users/a%2Fb%20c. Point
-- `url` at the real API in production.
return {
  name = "rest_users",
  url = "https://api.example.com/v1/users/{id}",
  method = "PUT",
  -- One request per record: needed for placeholders in url and headers.
  body = "object",

  headers = {
    Authorization = "Bearer " .. sluice.env("USERS_API_TOKEN", "demo-token"),
    -- Header values may use placeholders too, sent as they are (a value
    -- with a control character is refused at the intake).
    ["X-Tenant"] = "{tenant}",
  },

  schema = {
    -- Placeholders name fields that are string, integer or date and not
    -- nullable: every record has a value for them.
    { name = "id",       type = "string" },
    { name = "tenant",   type = "string" },
    { name = "email",    type = "string" },
    { name = "name",     type = "string" },
    { name = "plan",     type = "string",  nullable = true },
    { name = "seats",    type = "integer", nullable = true },
    { name = "since",    type = "date" },
  },
  unknown_fields = "drop",

  timeout_ms = 10000,
  -- Requests in flight at once; one record each.
  concurrency = 8,
  retry = { base_ms = 200, max_ms = 30000, max_elapsed_s = 3600 },
  -- A 4xx for one user dead-letters that user (with the URL that was
  -- used: `sluice dlq show rest_users ID`).
  on_permanent = "dead_letter",
  idempotency_header = "Idempotency-Key",
  durability = "fsync",
}
