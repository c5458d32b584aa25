-- Several problems in one file: all of them are reported, in line order.
return {
  name = "many problems",
  url = "http://127.0.0.1:9000/v1/x",
  methd = "POST",
  schema = {
    { name = "id", type = "integer", nulable = true },
    { name = "id", type = "string" },
    { type = "string" },
  },
  body = "json",
  headers = {
    ["Content-Type"] = "text/plain",
    ["X-Bad"] = "a\r\nInjected: yes",
  },
}
