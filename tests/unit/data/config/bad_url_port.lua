return {
  name = "bigport",
  url = "https://api.example.com:70000/v1/x",
  schema = { { name = "id", type = "integer" } },
}
