return {
  name = "noschema",
  url = "http://127.0.0.1:9000/v1/x",
}
