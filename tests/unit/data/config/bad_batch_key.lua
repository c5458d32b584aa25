return {
  name = "batchkey",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  batch = {
    max_records = 100,
    max_delay = 50,
  },
}
