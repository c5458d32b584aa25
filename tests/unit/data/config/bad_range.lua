return {
  name = "ranges",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  batch = { max_records = 0, max_bytes = 100 },
  concurrency = 65,
  timeout_ms = 99,
}
