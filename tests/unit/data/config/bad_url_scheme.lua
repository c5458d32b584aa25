return {
  name = "ftp_dest",
  url = "ftp://files.example.com/upload",
  schema = { { name = "id", type = "integer" } },
}
