-- wrk script: POSTs JSON rows with ids unique across threads and runs, {"id": N, "title": "item N"}
-- plus the fields in EXTRA_FIELDS (e.g. ', "year": 2000'); ID_OFFSET starts a run's ids elsewhere.
-- wrk calls request() once per thread before the run to probe it: a thread's first id is never sent.
-- API_KEY, when set, is sent as `Authorization: Bearer <key>` (bench/auth.sh).
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args)
  counter = 0
  base = tid * 100000000 + (tonumber(os.getenv("ID_OFFSET") or "0"))
  extra = os.getenv("EXTRA_FIELDS") or ""
  headers = {["Content-Type"] = "application/json"}
  local key = os.getenv("API_KEY")
  if key and key ~= "" then headers["Authorization"] = "Bearer " .. key end
end
function request()
  counter = counter + 1
  local id = base + counter
  return wrk.format("POST", nil, headers, '{"id": ' .. id .. ', "title": "item ' .. id .. '"' .. extra .. '}')
end
