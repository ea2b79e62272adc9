-- wrk script: POSTs JSON rows with ids unique across threads and runs, {"id": N, "title": "item N"}
-- plus the fields in EXTRA_FIELDS (e.g. ', "year": 2000'); ID_OFFSET starts a run's ids elsewhere.
-- wrk calls request() once per thread before the run to probe it: a thread's first id is never sent.
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args)
  counter = 0
  base = tid * 100000000 + (tonumber(os.getenv("ID_OFFSET") or "0"))
  extra = os.getenv("EXTRA_FIELDS") or ""
end
function request()
  counter = counter + 1
  local id = base + counter
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, '{"id": ' .. id .. ', "title": "item ' .. id .. '"' .. extra .. '}')
end
