return {
  name = "idem_bad",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  idempotency_header = "Content-Length",
}
