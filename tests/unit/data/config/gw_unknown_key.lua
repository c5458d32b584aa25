return {
  listen = "127.0.0.1:8080",
  conectors = { "ok_minimal.lua" },
  max_body_bytes = 512,
}
