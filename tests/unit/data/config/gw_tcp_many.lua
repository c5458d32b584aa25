-- 65 tcp listeners, one more than allowed.
local l = {}
for i = 1, 65 do
  l[i] = { listen = "127.0.0.1:" .. (6000 + i), connector = "minimal" }
end
return {
  connectors = { "ok_minimal.lua" },
  tcp = l,
}
