-- Same name as dup_name_a.lua.
return {
  name = "same",
  url = "http://127.0.0.1:9000/v1/b",
  schema = { { name = "id", type = "integer" } },
}
