-- wrk script for listen_throughput.py: send pre-signed webhook deliveries, count every answer that is not 2xx.
--
--   wrk ... -s signed_deliveries.lua URL -- FILE THREADS [once]
--
-- FILE has one delivery per line: webhook-id TAB webhook-timestamp TAB webhook-signature TAB body. Thread i of
-- THREADS sends lines i, i+THREADS, ... in turn; after the last it starts over (counted in `wrapped`), or with
-- `once` sends `GET /healthz` instead and stops once all its deliveries are answered. Answers that `hooks listen`
-- gives to an event it already handled (`"duplicate":true`) are counted too. done() prints one JSON line.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local requests, index = {}, 0
failures, wrapped, sent, answered, duplicates, first_failure = 0, 0, 0, 0, 0, ""
local once, verifying = false, false
local healthz

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  once = args[3] == "once"
  -- wrk calls the first thread's request() once before the run, to check what it returns; that one is not sent.
  verifying = tid == 1
  local line_no = 0
  for line in io.lines(path) do
    if line_no % nthreads == tid - 1 then
      local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {
        ["Content-Type"] = "application/json",
        ["webhook-id"] = id,
        ["webhook-timestamp"] = ts,
        ["webhook-signature"] = sig,
      }
      requests[#requests + 1] = wrk.format("POST", nil, headers, body)
    end
    line_no = line_no + 1
  end
  healthz = wrk.format("GET", "/healthz", {}, nil)
end

function request()
  if verifying then
    verifying = false
    return requests[1] or healthz
  end
  if index == #requests then
    if once then
      return healthz
    end
    index = 0
    wrapped = wrapped + 1
  end
  index = index + 1
  sent = sent + 1
  return requests[index]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    failures = failures + 1
    if first_failure == "" then
      first_failure = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
  if body and string.find(body, '"duplicate":true', 1, true) then
    duplicates = duplicates + 1  -- `hooks listen` had seen this event: it ran no handler
  end
  if body ~= '{"status":"ok"}' then  -- not a GET /healthz
    answered = answered + 1
    if once and answered == #requests then
      wrk.thread:stop()
    end
  end
end

local function quote(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, _)
  local f, w, s, a, dup, first = 0, 0, 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    f = f + thread:get("failures")
    w = w + thread:get("wrapped")
    s = s + thread:get("sent")
    dup = dup + thread:get("duplicates")
    a = a + thread:get("answered")
    if first == "" then first = thread:get("first_failure") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "deliveries_sent": %d, "deliveries_answered": %d, "non_2xx": %d, "wrapped": %d, "duplicates": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "first_failure": %s}\n',
    summary.requests, summary.duration, s, a, f, w, dup, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), quote(first)))
end
