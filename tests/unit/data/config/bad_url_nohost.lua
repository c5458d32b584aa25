return {
  name = "nohost",
  url = "http://:8080/v1/x",
  schema = { { name = "id", type = "integer" } },
}
