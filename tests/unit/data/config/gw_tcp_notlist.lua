-- tcp written as one listener instead of a list of them.
return {
  connectors = { "ok_minimal.lua" },
  tcp = { listen = "127.0.0.1:5170", connector = "minimal" },
}
