-- wrk script for the lab's load benchmark: every request carries a logged-in user's cookies (taken in
-- turn from the file named by the first script argument), and the node that answered is counted.
-- A second and third argument, when given, are the Host and X-Forwarded-Proto headers to send: what
-- nginx sends a node, so a request straight to a node is the same request as one through nginx.
local cookies, index = {}, 0
local threads = {}
local extra = {}
counts = {}  -- a global: the main thread reads every thread's copy with thread:get("counts")
statuses = {}  -- every answer that is not 2xx, by status: a figure must not stand on them

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(cookies, line) end
  end
  index = math.random(#cookies)
  if args[2] and #args[2] > 0 then extra["Host"] = args[2] end
  if args[3] and #args[3] > 0 then extra["X-Forwarded-Proto"] = args[3] end
end

function request()
  index = index % #cookies + 1
  local headers = {["Cookie"] = cookies[index]}
  for name, value in pairs(extra) do headers[name] = value end
  return wrk.format("GET", wrk.path, headers)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  end
  local node = headers["X-Lab-Node"] or ("status " .. status)
  counts[node] = (counts[node] or 0) + 1
  -- Every node names the authenticated user's id on every answer, whatever the site: none, anonymous.
  if headers["X-Lab-User"] == "" then
    counts["anonymous"] = (counts["anonymous"] or 0) + 1
  end
end

function done(summary, latency, requests)
  local nodes, answers = {}, {}
  for _, thread in ipairs(threads) do
    for node, count in pairs(thread:get("counts")) do nodes[node] = (nodes[node] or 0) + count end
    for status, count in pairs(thread:get("statuses")) do answers[status] = (answers[status] or 0) + count end
  end
  local parts, others = {}, {}
  for node, count in pairs(nodes) do table.insert(parts, string.format('"%s": %d', node, count)) end
  for status, count in pairs(answers) do table.insert(others, string.format('"%s": %d', status, count)) end
  -- The whole latency distribution, in 0.1 ms buckets, so clients that ran at once can be merged
  -- into one distribution (latency(i) is the i-th distinct value in microseconds, and its count).
  local buckets = {}
  for i = 1, #latency do
    local value, count = latency(i)
    local bucket = math.floor(value / 100)
    buckets[bucket] = (buckets[bucket] or 0) + count
  end
  local histogram = {}
  for bucket, count in pairs(buckets) do table.insert(histogram, string.format('"%d": %d', bucket, count)) end
  local e = summary.errors
  io.write(string.format(
    'LABJSON {"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "nodes": {%s}, "statuses": {%s}, "latency_0.1ms": {%s}}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    table.concat(parts, ", "), table.concat(others, ", "), table.concat(histogram, ", ")))
end
