-- The smallest valid connector: everything else has a default.
return {
  name = "minimal",
  url = "https://api.example.com/v1/things",
  schema = { { name = "id", type = "integer" } },
}
