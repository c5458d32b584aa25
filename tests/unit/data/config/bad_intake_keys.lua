return {
  name = "keys_bad",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" } },
  intake_keys = { "short-secret", 42, "has a space in it 0123", "dup-key-0123456789abcdef", "dup-key-0123456789abcdef" },
}
