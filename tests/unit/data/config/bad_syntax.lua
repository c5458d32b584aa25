return {
  name = "syntax",
  url = "http://127.0.0.1:9000/v1/x"
  schema = { { name = "id", type = "integer" } },
}
