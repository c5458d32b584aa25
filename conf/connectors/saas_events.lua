-- Events for a rate-limited SaaS API, modelled on Customer.io's Track API
-- (about 100 requests per second per account, batches of up to 500 KB, 429
-- past the limit). Point `url` at the real API in production; how the keys
-- below play together is in docs/operations.md, "A rate-limited SaaS API".
return {
  name = "saas_events",
  url = "https://track.example.com/api/v2/batch",
  headers = {
    Authorization = "Basic " .. sluice.base64_encode(
      sluice.env("SAAS_SITE_ID", "demo-site") .. ":" ..
      sluice.env("SAAS_API_KEY", "demo-key")),
  },

  schema = {
    { name = "id",        type = "string" },  -- the event's own id: the API
                                              -- drops a second copy (409)
    { name = "user_id",   type = "string" },
    { name = "name",      type = "string" },
    { name = "timestamp", type = "datetime" },
    { name = "plan",      type = "string", nullable = true },
  },
  unknown_fields = "drop",
  body = { template = '{"batch": $records}' },
  batch = { max_records = 100, max_bytes = 500000, max_delay_ms = 200 },

  -- Keep under the API's limit instead of drawing 429s: 90 of its 100
  -- requests per second (the rest for the account's other clients), evenly
  -- spaced; retries count too. When the API's X-RateLimit-Remaining (or
  -- RateLimit) header says 0, sluice also waits for its reset by itself.
  rate_limit = { requests_per_s = 90 },

  -- Requests in flight follow the API: from 1 up to 16 while its latency
  -- stays flat, cut on 429, 503, 504, timeouts or a rising latency.
  concurrency = "adaptive",
  max_concurrency = 16,

  -- The API's own codes: 409 "an event with this id exists" means done;
  -- 423 "account locked for maintenance" means try again later.
  status = { success = { 409 }, retry = { 423 } },
  retry = { base_ms = 500, max_ms = 60000, max_elapsed_s = 86400 },
  -- A 400 or 422 for the whole batch: halve it until the bad events are
  -- isolated; they go to the dead letters, the others are delivered.
  on_permanent = "bisect",
  timeout_ms = 10000,
}
