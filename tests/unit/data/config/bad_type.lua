return {
  name = "types",
  url = "http://127.0.0.1:9000/v1/x",
  schema = {
    { name = "id",     type = "integer" },
    { name = "email",  type = "string" },
    { name = "amount", type = "integr" },
    { name = "when",   type = "timestamp" },
  },
}
