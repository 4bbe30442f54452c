-- wrk script: POST /v1/notifications with a unique VM payload per request.
-- Every request names one of the seeded hosts (bench-host-01..NHOSTS) and carries a fresh instance_uuid, so no
-- request is a duplicate. The event (LIFECYCLE / STARTED_BOOTED) is valid for the API and one that both engines
-- mark "ignored" without calling Nova, so the measurement is the intake path: validate, check host, duplicate
-- check, durable insert, 202, hand-over to the engine.
-- Every 202's notification_uuid is appended to $UUID_DIR/uuids-<thread>.txt so the caller can check afterwards
-- that each accepted notification is in the database. done() prints the status counts as "STATUS <code> <n>".
local run_tag = os.getenv("RUN_TAG") or string.format("%08x", os.time() % 0xffffffff)
local nhosts = tonumber(os.getenv("NHOSTS") or "10")
local uuid_dir = os.getenv("UUID_DIR")
local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_no", thread_count)
  table.insert(threads, thread)
end

local counter = 0
local out = nil
nall = 0 -- responses seen by this thread; n<code> globals count each status (read by done() via thread:get)

function init(args)
  if uuid_dir then out = io.open(string.format("%s/uuids-%d.txt", uuid_dir, thread_no), "a") end
end

function request()
  counter = counter + 1
  local host = string.format("bench-host-%02d", (counter % nhosts) + 1)
  local instance = string.format("%s-%04x-4000-8000-%012x", run_tag, thread_no, counter)
  local body = string.format(
    '{"notification":{"type":"VM","hostname":"%s","generated_time":"%s","payload":{"event":"LIFECYCLE","instance_uuid":"%s","vir_domain_event":"STARTED_BOOTED"}}}',
    host, os.date("!%Y-%m-%dT%H:%M:%S"), instance)
  return wrk.format("POST", "/v1/notifications", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  nall = nall + 1
  local k = "n" .. status
  _G[k] = (_G[k] or 0) + 1
  if status == 202 and out then
    local u = string.match(body, '"notification_uuid"%s*:%s*"([%x%-]+)"')
    out:write((u or "UNPARSED"), "\n")
    out:flush()
  end
end

function done(summary, latency, requests)
  local total, all = {}, 0
  for _, t in ipairs(threads) do
    all = all + (t:get("nall") or 0)
    for code = 100, 599 do
      local n = t:get("n" .. code)
      if n then total[code] = (total[code] or 0) + n end
    end
  end
  io.write(string.format("RESPONSES %d\n", all))
  for code, n in pairs(total) do io.write(string.format("STATUS %d %d\n", code, n)) end
end
