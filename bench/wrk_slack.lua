-- wrk script for bench/receiver.py: replays pre-generated, distinct, signed Slack webhooks.
--
-- Usage: wrk -t N ... -s bench/wrk_slack.lua <url> -- <prefix> <N>
-- Thread i (1-based) reads "<prefix>.<i>": one request per line,
--   path TAB X-Slack-Request-Timestamp TAB X-Slack-Signature TAB raw JSON body
-- and cycles through its own slice, counting wrap-arounds (a wrap replays event ids).
-- done() prints one machine-readable "BENCH key=value ..." line for the driver to parse.
--
-- Start barrier: wrk runs each thread's init() and starts that thread at once, but starts
-- its clock only once every thread is running. Early threads would send load, counted
-- against a shorter duration, while later ones still load their requests. So the last
-- thread's init() creates "<prefix>.go" and every thread's first request() waits for it.
-- Exception: right after the first thread's init(), wrk's main thread calls request() once
-- on that thread's state to validate the request; that call is answered at once and
-- neither sent nor counted.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

-- Per-thread globals (read back by done() through thread:get).
requests_loaded = 0
sent = 0
wraps = 0
ok_2xx = 0
non_2xx = 0

local prepared = {}
local index = 0
local go_file = nil
local started = false
local probe_pending = false

function init(args)
   local file = args[1] .. "." .. id
   for line in io.lines(file) do
      local a = string.find(line, "\t", 1, true)
      local b = string.find(line, "\t", a + 1, true)
      local c = string.find(line, "\t", b + 1, true)
      local headers = {
         ["Content-Type"] = "application/json",
         ["X-Slack-Request-Timestamp"] = string.sub(line, a + 1, b - 1),
         ["X-Slack-Signature"] = string.sub(line, b + 1, c - 1),
      }
      local path = string.sub(line, 1, a - 1)
      local body = string.sub(line, c + 1)
      prepared[#prepared + 1] = wrk.format("POST", path, headers, body)
   end
   requests_loaded = #prepared
   if requests_loaded == 0 then
      error("no requests in " .. file)
   end
   go_file = args[1] .. ".go"
   probe_pending = id == 1
   if id == tonumber(args[2]) then
      assert(io.open(go_file, "w")):close()
   end
end

function request()
   if probe_pending then
      probe_pending = false
      return prepared[1]
   end
   if not started then
      while true do  -- spins only while later threads load their requests
         local go = io.open(go_file, "r")
         if go then
            go:close()
            break
         end
      end
      started = true
   end
   index = index + 1
   if index > requests_loaded then
      index = 1
      wraps = wraps + 1
   end
   sent = sent + 1
   return prepared[index]
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok_2xx = ok_2xx + 1
   else
      non_2xx = non_2xx + 1
   end
end

function done(summary, latency, requests)
   local totals = { requests_loaded = 0, sent = 0, wraps = 0, ok_2xx = 0, non_2xx = 0 }
   for _, thread in ipairs(threads) do
      for key, value in pairs(totals) do
         totals[key] = value + thread:get(key)
      end
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH responses=%d duration_us=%d sent=%d loaded=%d wraps=%d ok_2xx=%d non_2xx=%d "
         .. "err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d "
         .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f\n",
      summary.requests, summary.duration, totals.sent, totals.requests_loaded, totals.wraps,
      totals.ok_2xx, totals.non_2xx,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean))
end
