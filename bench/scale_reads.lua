-- wrk script for bench/scale.sh with READ=read: like scale_devices.lua, but after
-- each device login (201) the same thread reads GET /v1/account once with the new
-- token (a client's usual first call), so that each live actor publishes its answer.
-- Prints on exit: created <201 responses> next <n of thread 0> <n of thread 1> reads <n>
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  prefix = args[1]
  counter = tonumber(args[2 + tid])
  limit = tonumber(args[4 + tid])
  created = 0
  reads = 0
  tokens = {}
end
function request()
  local t = table.remove(tokens)
  if t then
    return wrk.format("GET", "/v1/account", {["Authorization"] = "Bearer " .. t})
  end
  if counter >= limit then return wrk.format("GET", "/healthz") end
  local body = '{"device_id":"' .. prefix .. "-" .. tid .. "-" .. counter .. '"}'
  counter = counter + 1
  return wrk.format("POST", "/v1/sessions/device", {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status == 201 then
    created = created + 1
    local t = string.match(body, '"token"%s*:%s*"([^"]+)"')
    if t then table.insert(tokens, t) end
  elseif status == 200 and string.find(body, '"session_id"', 1, true) then
    reads = reads + 1
  end
end
function done(summary, latency, requests)
  local total, r = 0, 0
  for _, t in ipairs(threads) do total = total + t:get("created"); r = r + t:get("reads") end
  io.write(string.format("created %d next %d %d reads %d\n", total, threads[1]:get("counter"), threads[2]:get("counter"), r))
end
