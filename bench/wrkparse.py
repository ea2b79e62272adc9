"""Reads wrk's text output (with --latency) and prints the figures as JSON."""
import json, re, sys

text = open(sys.argv[1]).read()
def unit_ms(v, u):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
out = {}
m = re.search(r"Requests/sec:\s+([\d.]+)", text)
out["requests_per_second"] = float(m.group(1)) if m else 0.0
m = re.search(r"(\d+) requests in", text)
out["requests"] = int(m.group(1)) if m else 0
m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
out["non_2xx"] = int(m.group(1)) if m else 0
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
out["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
for p in ["50", "75", "90", "99"]:
    m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text)
    if m:
        out[f"p{p}_ms"] = unit_ms(m.group(1), m.group(2))
for key, name in [("p99.9_us", "p999_ms"), ("max_us", "max_ms")]:
    m = re.search(rf"^{re.escape(key)} (\d+)$", text, re.M)
    if m:
        out[name] = int(m.group(1)) / 1000
print(json.dumps(out))
