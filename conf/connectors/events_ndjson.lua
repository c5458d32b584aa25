-- Click-stream events, sent as NDJSON (one record per line). Unknown record
-- members are dropped rather than rejected, so producers may add fields.
return {
  name = "events",
  url = "http://127.0.0.1:9000/v1/events",
  method = "post",              -- any case; stored as "POST"
  headers = { ["X-Source"] = "sluice" },

  schema = {
    { name = "event_id", type = "string" },
    { name = "user_id",  type = "integer", nullable = true },
    { name = "kind",     type = "string" },
    { name = "at",       type = "datetime" },
    { name = "value",    type = "number",  nullable = true },
  },
  unknown_fields = "drop",
  body = "ndjson",
  -- what one producer's event may be; past a limit that event is rejected
  -- (the other events of the request are taken)
  limits = { record_bytes = 16384, string_bytes = 2048, fields = 64, depth = 8 },

  batch = { max_records = 1000, max_bytes = 262144, max_delay_ms = 500 },
  concurrency = 1,              -- keeps events in order
}
