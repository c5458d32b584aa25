-- A misspelt key: the line of `hedaers` and a suggestion.
return {
  name = "typo",
  url = "http://127.0.0.1:9000/v1/x",
  schema = {
    { name = "id", type = "integer" },
  },
  hedaers = {
    ["X-Source"] = "sluice",
  },
}
