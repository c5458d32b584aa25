-- listen in brackets, absolute state_dir, one file twice (loaded once).
return {
  listen = "[::1]:9999",
  state_dir = "/var/lib/sluice",
  connectors = { "ok_minimal.lua", "ok_*.lua" },
}
