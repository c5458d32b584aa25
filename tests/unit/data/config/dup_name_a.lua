return {
  name = "same",
  url = "http://127.0.0.1:9000/v1/a",
  schema = { { name = "id", type = "integer" } },
}
