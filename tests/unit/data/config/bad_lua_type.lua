return {
  name = "types_wrong",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer", nullable = "yes" } },
  timeout_ms = "10s",
  batch = { max_records = 2.5 },
  headers = "X-Source: sluice",
}
