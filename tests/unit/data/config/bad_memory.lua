-- Allocates without end; the sandbox's memory cap stops it.
local t = {}
local i = 0
while true do
  i = i + 1
  t[i] = string.rep("x", 64) .. i
end
