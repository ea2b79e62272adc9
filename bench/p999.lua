-- wrk script: bench/insert.lua's rows, and at the end the 99.9th percentile latency, which
-- wrk's --latency table does not show ("p99.9_us N").
dofile(os.getenv("BENCH_DIR") .. "/insert.lua")
function done(summary, latency, requests)
  io.write(string.format("p99.9_us %d\n", latency:percentile(99.9)))
  io.write(string.format("max_us %d\n", latency.max))
end
