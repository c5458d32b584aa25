return {
  listen = "localhost",
  connectors = {
    "ok_minimal.lua",
    "no_such_file.lua",
    "nothing_here/*.lua",
  },
}
