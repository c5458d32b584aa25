-- A connector with Lua functions and limits; the functions keep their
-- upvalues because the file's state stays open.
local prefix = "x-"
local function upper(s) return s:upper() end

return {
  name = "lua_ok",
  url = "http://127.0.0.1:9000/v1/x",
  schema = { { name = "id", type = "integer" }, { name = "tag", type = "string" } },
  transform = function(rec, ctx)
    if rec.id < 0 then error("negative id " .. rec.id) end
    if rec.tag == "spin" then while true do end end
    if rec.tag == "hog" then rec.tag = string.rep("x", 4 * 1024 * 1024) end
    rec.tag = prefix .. upper(rec.tag) .. "@" .. ctx.index
    return rec
  end,
  headers_fn = function(req)
    return { ["X-Attempt"] = tostring(req.attempt) }
  end,
  response_fn = function(res, req)
    return nil
  end,
  max_response_bytes = 4096,
  lua = { max_instructions = 5000, max_memory_mb = 2 },
}
