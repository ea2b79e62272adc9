"""Writes bench/RESULTS.md from the JSON figures the benchmark scripts left in bench/out/."""
import json, os, platform, datetime, subprocess

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "out")

def load(name):
    p = os.path.join(out, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None

def measured(name):
    """The day a benchmark's figures were written (its JSON file's date), not the report's."""
    return datetime.date.fromtimestamp(os.path.getmtime(os.path.join(out, name + ".json"))).isoformat()

def ok(cond):
    return "met" if cond else "NOT met"

# Sections of the current RESULTS.md, by heading: a benchmark not re-run keeps its last figures
# (bench/out/ is not committed, so a fresh clone has only the ones it ran).
previous = {}
results_path = os.path.join(here, "RESULTS.md")
if os.path.exists(results_path):
    current = None
    for line in open(results_path).read().split("\n"):
        if line.startswith("## "):
            current = line
            previous[current] = []
        elif current is not None:
            previous[current].append(line)

def kept(heading, script):
    """The section's earlier text if it was measured before, else a note to run it."""
    old = previous.get(heading)
    if old and not any("Not measured yet" in l for l in old):
        while old and old[0] == "":
            old = old[1:]
        return old
    return [f"Not measured yet (`bench/{script}`).", ""]

lines = ["# Benchmark results", ""]
cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
lines += [
    f"Updated on {datetime.date.today().isoformat()}, {platform.machine()}, {cpu} cores, fully static release build "
    "(`swift build -c release --static-swift-stdlib -Xswiftc -static-executable`). Each script measures its baseline in the same run; "
    "this machine is shared and noisy, so read ratios rather than absolute figures. A section keeps its figures until its script "
    "runs again (`git log -p bench/RESULTS.md` shows when each was measured).", "",
    "Regenerate with `bench/group-commit.sh`, `bench/lookup.sh`, `bench/pxt-insert.sh`, `bench/cli.sh`, `bench/serve.sh`, `bench/media.sh`, `bench/embeddings.sh` "
    "(each installs the tools it needs and rebuilds in `.build-release`; set `SKIP_BUILD=1` to reuse a build).", ""]

g = load("group-commit")
lines += ["## Durable single-row inserts from 64 concurrent tasks (engine)", ""]
if g:
    gc, base = g["group_commit"], g["one_transaction_per_row"]
    lines += ["| mode | rows | seconds | rows/s |", "|---|---:|---:|---:|",
              f"| one transaction per row (baseline) | {base['rows']} | {base['seconds']:.2f} | {base['rows_per_second']:,.0f} |",
              f"| group commit | {gc['rows']} | {gc['seconds']:.2f} | {gc['rows_per_second']:,.0f} |", "",
              f"Group commit: **{gc['rows_per_second']:,.0f} rows/s**, **{g['speedup']:.1f}x** the baseline. "
              f"Target: at least 20,000 rows/s and 10x the baseline — {ok(gc['rows_per_second'] >= 20000 and g['speedup'] >= 10)}. "
              "Every insert is acknowledged only after its transaction committed with `synchronous=FULL`.", ""]
else:
    lines += kept("## Durable single-row inserts from 64 concurrent tasks (engine)", "group-commit.sh")

l = load("lookup")
lines += ["## Named-query point lookup on a 1,000,000-row table (in-process)", ""]
if l:
    lines += ["| query | p50 | p99 |", "|---|---:|---:|",
              f"| `retrieval = [\"id\"]` by primary key (on the calling thread) | {l['pk_lookup_us']['p50']:.1f} µs | {l['pk_lookup_us']['p99']:.1f} µs |",
              f"| same, through the async API (a hop to a reader queue) | {l['pk_lookup_async_us']['p50']:.1f} µs | {l['pk_lookup_async_us']['p99']:.1f} µs |",
              f"| full scan, `name == :name` (baseline) | {l['full_scan_us']['p50'] / 1000:.1f} ms | |", "",
              f"Target: p50 at most 50 µs — {ok(l['pk_lookup_us']['p50'] <= 50)}; "
              f"{l['full_scan_us']['p50'] / l['pk_lookup_us']['p50']:,.0f}x faster than the full scan. "
              f"Loading the {l['rows']:,} rows with `BulkInsert` took {l['load_seconds']:.1f} s ({l['load_rows_per_second']:,.0f} rows/s).", ""]
else:
    lines += kept("## Named-query point lookup on a 1,000,000-row table (in-process)", "lookup.sh")

p = load("pxt-insert")
lines += ["## `pxt insert` of 1,000,000 JSON-lines rows, two computed columns", ""]
if p:
    lines += [f"{p['rows']:,} rows in {p['seconds']:.2f} s: **{p['rows_per_second']:,.0f} rows/s** through the daemon, one table version. "
              f"Target: at least 100,000 rows/s — {ok(p['rows_per_second'] >= 100000)}.", ""]
else:
    lines += kept("## `pxt insert` of 1,000,000 JSON-lines rows, two computed columns", "pxt-insert.sh")

c = load("cli")
lines += ["## Warm CLI commands and the first command (hyperfine)", ""]
if c:
    lines += ["| command | median | mean |", "|---|---:|---:|"]
    for k, v in c["warm"].items():
        lines.append(f"| `pxt {v['command']}` (warm) | {v['median_ms']:.1f} ms | {v['mean_ms']:.1f} ms |")
    f = c["first_with_spawn"]
    lines += [f"| `pxt ls` with the daemon's spawn | {f['median_ms']:.1f} ms | {f['mean_ms']:.1f} ms |", ""]
    worst = max(v["median_ms"] for v in c["warm"].values())
    lines += [f"Targets: warm medians at most 5 ms — {ok(worst <= 5)}; first command at most 300 ms — {ok(f['median_ms'] <= 300)}. "
              "For scale (from the issue): Pixeltable 0.7.21 on this machine kind takes about 210 ms per warm command and 2.3 s for the first.", ""]
else:
    lines += kept("## Warm CLI commands and the first command (hyperfine)", "cli.sh")

s = load("serve")
lines += ["## `pxt serve` on loopback (wrk, 64 connections)", ""]
if s:
    cp, ins, cg, lk = s["ceiling_post"], s["insert"], s["ceiling_get"], s["lookup"]
    rounds = s.get("rounds", 1)
    def each(r):
        return ", ".join(f"{x:,.0f}" for x in r.get("all_requests_per_second", [r["requests_per_second"]]))
    lines += [f"Each endpoint ran {rounds} times for {s.get('duration_s', 10)} s, alternating with its ceiling; the table shows the median run of each "
              "(every run's req/s in the last column).", "",
              "| endpoint | req/s | p50 | p99 | non-2xx | all runs, req/s |", "|---|---:|---:|---:|---:|---|",
              f"| hello-world POST (ceiling) | {cp['requests_per_second']:,.0f} | {cp.get('p50_ms', 0):.2f} ms | {cp.get('p99_ms', 0):.2f} ms | {cp['non_2xx']} | {each(cp)} |",
              f"| insert route, single-row JSON | {ins['requests_per_second']:,.0f} | {ins.get('p50_ms', 0):.2f} ms | {ins.get('p99_ms', 0):.2f} ms | {ins['non_2xx']} | {each(ins)} |",
              f"| hello-world GET (ceiling) | {cg['requests_per_second']:,.0f} | {cg.get('p50_ms', 0):.2f} ms | {cg.get('p99_ms', 0):.2f} ms | {cg['non_2xx']} | {each(cg)} |",
              f"| one_row GET query by primary key | {lk['requests_per_second']:,.0f} | {lk.get('p50_ms', 0):.2f} ms | {lk.get('p99_ms', 0):.2f} ms | {lk['non_2xx']} | {each(lk)} |", "",
              f"- insert: **{s['insert_vs_ceiling']:.0%}** of the ceiling (target 50%, p99 at most 25 ms) — {ok(s['insert_vs_ceiling'] >= 0.5 and ins.get('p99_ms', 1e9) <= 25)}; "
              f"{ins.get('stored_rows', '?')} rows stored for {ins.get('acknowledged_rows', ins['requests'] - ins['non_2xx'])} acknowledged inserts over all runs "
              "(every acknowledged row is stored; the extra rows were in flight when wrk stopped counting).",
              f"- one_row GET: **{s['lookup_vs_ceiling']:.0%}** of the ceiling (target 70%) — {ok(s['lookup_vs_ceiling'] >= 0.7)}.",
              f"- server RSS after {s['rss_after_inserts']['rows']:,} inserts: **{s['rss_after_inserts']['rss_mb']:.0f} MB** (peak {s['rss_after_inserts']['peak_rss_mb']:.0f} MB; target at most 100 MB) — {ok(s['rss_after_inserts']['rss_mb'] <= 100)}.",
              "", "For scale (from the issue): Pixeltable 0.7.2's `pxt serve` on this machine did 36 insert req/s and 297 one_row req/s at 64 connections.", ""]
else:
    lines += kept("## `pxt serve` on loopback (wrk, 64 connections)", "serve.sh")

m = load("media")
heading = "## Images: thumbnails on upload, resize quality, a 200 MB upload"
lines += [heading, ""]
if m:
    px, pil, vips, pc = m["pxt_upload_route"], m["pillow"], m["vipsthumbnail"], m["pxt_upload_route_curl"]
    q, up = m["quality"], m["upload_200mb"]
    lines += [f"Measured on {measured('media')}. A 256-px thumbnail of a {m['photo_size'][0]}x{m['photo_size'][1]} (12-megapixel) photo-like JPEG of {m['photo_bytes'] / 1e6:.1f} MB, "
              f"every run writing its thumbnail as a JPEG ({m['runs']} runs of each baseline):", "",
              "| how | p50 | p90 | fastest |", "|---|---:|---:|---:|",
              f"| `pxt serve` upload route, end to end (upload, stored original, thumbnail computed on insert, durable row), {px['uploads']} uploads one after another on one connection (wrk) | {px['p50_ms']:.1f} ms | {px['p90_ms']:.1f} ms | |",
              f"| the same with curl, a process per upload (its start, file read and 100-continue round trip included) | {pc['p50_ms']:.1f} ms | {pc['p90_ms']:.1f} ms | {pc['min_ms']:.1f} ms |",
              f"| Pillow `Image.open` + `thumbnail((256, 256))` (JPEG draft) + save, in one Python process (baseline) | {pil['p50_ms']:.1f} ms | {pil['p90_ms']:.1f} ms | {pil['min_ms']:.1f} ms |",
              f"| libvips `vipsthumbnail -s 256`, a process per file (baseline) | {vips['p50_ms']:.1f} ms | {vips['p90_ms']:.1f} ms | {vips['min_ms']:.1f} ms |", "",
              f"- pxt end to end is **{m['pxt_vs_pillow']:.2f}x** Pillow's time (target: faster, under 1x) — {ok(m['pxt_vs_pillow'] < 1)}; "
              f"**{m['pxt_vs_vips']:.2f}x** vipsthumbnail's (target: at most 1.5x) — {ok(m['pxt_vs_vips'] <= 1.5)}.",
              (f"- Quality: a LANCZOS resize of a 1600x1200 photo-like PNG to 533x400, stored by pxt, against Pillow's: **identical, pixel for pixel** "
               f"(PSNR infinite; target at least 35 dB) — met." if q['max_abs_diff'] == 0 else
               f"- Quality: a LANCZOS resize of a 1600x1200 photo-like PNG to 533x400, stored by pxt, against Pillow's: **PSNR {q['psnr_db']:.1f} dB** "
               f"(largest pixel difference {q['max_abs_diff']:.0f}; target at least 35 dB) — {ok(q['psnr_db'] >= 35)}."),
              f"- A 200 MB upload (multipart, to a Document column): {up['seconds']:.2f} s, **{up['mb_per_second']:.0f} MB/s**; the server's peak RSS "
              f"**{up['server_peak_rss_mb']:.0f} MB** (target under 100 MB) — {ok(up['server_peak_rss_mb'] < 100)}. The file streams to disk as it arrives.", ""]
else:
    lines += kept(heading, "media.sh")

e = load("embeddings")
heading = "## Embeddings: all-MiniLM-L6-v2 in process, exact search, HNSW at a million rows"
lines += [heading, ""]
if e:
    px, npy, sg, st = e["pxt"], e["numpy"], e["sgemm"], e["sentence_transformers"]
    lines += [f"Measured on {measured('embeddings')}. {e['sentences']:,} sentences of 8 to 40 words ({e['tokens']:,} tokens) drawn from the model's vocabulary:", "",
              "| encoder | seconds | sentences/s | GFLOP/s |", "|---|---:|---:|---:|",
              f"| pxt (Swift, OpenBLAS sgemm, packed batches) | {px['seconds']:.2f} | **{px['sentences_per_second']:,.0f}** | {px['gflops']:.0f} |",
              f"| NumPy over the same weights (`scripts/bert_numpy.py`, padded batches of 32, OpenBLAS) — baseline | {npy['seconds']:.2f} | {npy['sentences_per_second']:,.0f} | |",
              (f"| sentence-transformers (PyTorch) | {st['seconds']:.2f} | {e['sentences'] / st['seconds']:,.0f} | |" if st.get("seconds") else
               f"| sentence-transformers | — | — | {st.get('note', 'not installed')} |"),
              f"| OpenBLAS sgemm {sg['n']}x{sg['n']}x{sg['n']}, best of 7 (the machine's peak) | | | {sg['gflops']:.0f} |", "",
              f"- **{e['speedup_vs_numpy']:.1f}x** the NumPy run (target at least 3x) — {ok(e['speedup_vs_numpy'] >= 3)}; "
              f"**{e['fraction_of_sgemm_peak']:.0%}** of the sgemm peak (target at least 40%) — {ok(e['fraction_of_sgemm_peak'] >= 0.4)}. "
              "FLOPs are counted per token and layer: 24h² for the projections and the feed-forward layer, 4nh for attention.", ""]
    x = e["exact"]
    lines += [f"Exact top-10 cosine over {x['rows']:,} x {x['dims']} vectors through a named query (`order by id.similarity(:q) desc limit 10`, "
              "the query embedded, the index searched, the 10 rows read back and scored), graph disabled:", "",
              "| | p50 | p90 |", "|---|---:|---:|",
              f"| pxt search, end to end | {x['search_ms']['p50']:.2f} ms | {x['search_ms']['p90']:.2f} ms |",
              f"| one pass summing the same {x['rows'] * x['dims'] * 4 / 1e6:.0f} MB on every core (baseline: {x['bandwidth_pass_ms']['gb_per_second']:.1f} GB/s) | {x['bandwidth_pass_ms']['p50']:.2f} ms | |",
              f"| the same pass on one core ({x['bandwidth_pass_one_core_ms']['gb_per_second']:.1f} GB/s) | {x['bandwidth_pass_one_core_ms']['p50']:.2f} ms | |", "",
              f"- **{x['ratio']:.2f}x** the bandwidth pass (target at most 1.5x) — {ok(x['ratio'] <= 1.5)}. The first query read the vectors from SQLite in "
              f"{x['first_query_ms']:.0f} ms.", ""]
    h, hp = e["hnsw"], e["hnsw_python"].get("hnswlib")
    lines += [f"HNSW over {h['rows']:,} x {h['dims']} vectors (synthetic: 1,000 clusters plus noise, unit length; 1,000 held-out queries; "
              f"M {h['m']}, ef_construction {h['ef_construction']}, ef {h['ef']}, 2 threads building), recall@{h['k']} against the exact neighbours (NumPy):", "",
              "| | build | top-10 p50 | p99 | recall@10 |", "|---|---:|---:|---:|---:|",
              f"| pxt, end to end through a named query (graph built in the background from the stored vectors, then saved) | {h['build_seconds']:.0f} s | **{h['search_ms']['p50']:.2f} ms** | {h['search_ms']['p99']:.2f} ms | **{h['recall_at_k']:.3f}** |"]
    if hp:
        lines += [f"| Python hnswlib {hp['version']} (`knn_query`, one query per call) — baseline | {hp['build_seconds']:.0f} s | {hp['search_ms']['p50']:.2f} ms | {hp['search_ms']['p99']:.2f} ms | {hp['recall_at_k']:.3f} |"]
    lines += ["", f"- p50 at most 2 ms with recall@10 at least 0.95 — {ok(h['search_ms']['p50'] <= 2 and h['recall_at_k'] >= 0.95)}. "
              f"Inserting the {h['rows']:,} rows took {h['load_seconds']:.0f} s; the first search (reading the vectors into memory, exact) {h['first_query_seconds']:.1f} s.",
              "- The two times measure different things: pxt's is the whole query (the query's vector computed, the graph searched, the 10 rows read back "
              "from the table and scored); hnswlib's `knn_query` returns labels only. At this size the table is 2 GB of SQLite, which this machine's page "
              "cache does not keep whole, so some of the 10 row reads go to the disk: a profile at ef 64 put the graph at 0.37 ms of a 1.39 ms p50.", ""]
else:
    lines += kept(heading, "embeddings.sh")

x = load("export")
heading = "## SQL export: an insert route exporting each row to PostgreSQL"
lines += [heading, ""]
if x:
    p, e, o = x["plain"], x["exported"], x.get("outboxed")
    lines += [f"Measured on {measured('export')}. wrk, {x['connections']} connections, {x['duration_s']} s runs, {x['rounds']} alternating rounds (medians), "
              "one `pxt serve` with the same insert route three times: plain, and with `export_sql` (method `insert`) into a local PostgreSQL 15 "
              "(a private cluster, fsync off, on the same 2 cores), delivered directly and through the outbox:", "",
              "| route | req/s | p50 | p99 | every round (req/s) |", "|---|---:|---:|---:|---|",
              f"| insert, no export — baseline | {p['requests_per_second']:,.0f} | {p.get('p50_ms', 0):.2f} ms | {p.get('p99_ms', 0):.2f} ms | {', '.join(f'{v:,.0f}' for v in p['all_requests_per_second'])} |",
              f"| insert + export_sql to PostgreSQL | {e['requests_per_second']:,.0f} | {e.get('p50_ms', 0):.2f} ms | {e.get('p99_ms', 0):.2f} ms | {', '.join(f'{v:,.0f}' for v in e['all_requests_per_second'])} |"]
    if o:
        lines += [f"| insert + export_sql, `delivery = \"outbox\"` | {o['requests_per_second']:,.0f} | {o.get('p50_ms', 0):.2f} ms | {o.get('p99_ms', 0):.2f} ms | {', '.join(f'{v:,.0f}' for v in o['all_requests_per_second'])} |"]
    lines += ["", f"- **{x['exported_vs_plain']:.0%}** of the no-export figure with direct delivery (target at least 50%) — {ok(x['exported_vs_plain'] >= 0.5)}. "
              f"{x['acknowledged_exports']:,} acknowledged requests, {x['exported_rows']:,} rows in the target."]
    if o:
        lines += [f"- **{x['outboxed_vs_plain']:.0%}** of the no-export figure through the outbox (target at least 80%) — {ok(x['outboxed_vs_plain'] >= 0.8)}. "
                  f"{x['acknowledged_outboxed']:,} acknowledged requests, {x['outboxed_rows']:,} rows delivered; after each run the worker had caught up "
                  f"within {x['outbox_catch_up_ms']:,} ms (the longest of the rounds). Under load the worker lets entries gather for 100 ms between rounds "
                  "that do not fill a batch: with 20 ms the same benchmark gave 75–76% (each round is a read, a statement and a delete, and fewer, "
                  "larger rounds leave more of the two cores to the requests). The margin over the target is thin on this shared machine."]
    lines += [""]
else:
    lines += kept(heading, "export.sh")

x = load("auth")
heading = "## Authentication: API keys on the insert and one_row routes"
lines += [heading, ""]
if x:
    rows = [("insert, no auth — baseline", x["insert"]), ("insert, auth on", x["insert_auth"]),
            ("one_row GET, no auth — baseline", x["lookup"]), ("one_row GET, auth on", x["lookup_auth"])]
    lines += [f"Measured on {measured('auth')}. wrk, {x['connections']} connections, {x['duration_s']} s runs, {x['rounds']} alternating rounds (medians); "
              f"two `pxt serve` processes with the same module and routes, one with `[service.auth]` holding {x['keys']} API keys (the one sent is the last, "
              "and every key is compared, in constant time), each on its own home; both get the same requests, `Authorization` header included "
              "(the server without auth ignores it), so the difference is the checking:", "",
              "| route | req/s | p50 | p99 | every round (req/s) |", "|---|---:|---:|---:|---|"]
    for name, r in rows:
        lines += [f"| {name} | {r['requests_per_second']:,.0f} | {r.get('p50_ms', 0):.2f} ms | {r.get('p99_ms', 0):.2f} ms | {', '.join(f'{v:,.0f}' for v in r['all_requests_per_second'])} |"]
    lines += ["", f"- insert with auth at **{x['insert_auth_vs_plain']:.0%}** and one_row lookups at **{x['lookup_auth_vs_plain']:.0%}** of the same routes "
              f"without (target: within 10%) — {ok(x['insert_auth_vs_plain'] >= 0.9 and x['lookup_auth_vs_plain'] >= 0.9)}.", ""]
else:
    lines += kept(heading, "auth.sh")

x = load("two-servers")
heading = "## Two `pxt serve` processes on one home"
lines += [heading, ""]
if x:
    one, (a, b) = x["one"], x["two"]
    lines += [f"Measured on {measured('two-servers')}. wrk, {x['duration_s']} s runs of durable single-row inserts, 64 connections in all: "
              "one server alone, then two servers of the same service on one home at once, 32 connections each (one SQLite database, one write lock):", "",
              "| | req/s | p50 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|",
              f"| one server, 64 connections — baseline | {one['requests_per_second']:,.0f} | {one['p50_ms']:.2f} ms | {one['p99_ms']:.2f} ms | {one['p999_ms']:.1f} ms | {one['max_ms']:.0f} ms |",
              f"| two servers, first (32 connections) | {a['requests_per_second']:,.0f} | {a['p50_ms']:.2f} ms | {a['p99_ms']:.2f} ms | {a['p999_ms']:.1f} ms | {a['max_ms']:.0f} ms |",
              f"| two servers, second (32 connections) | {b['requests_per_second']:,.0f} | {b['p50_ms']:.2f} ms | {b['p99_ms']:.2f} ms | {b['p999_ms']:.1f} ms | {b['max_ms']:.0f} ms |",
              "", f"- Two servers together: {x['two_total_requests_per_second']:,.0f} req/s, worst p99.9 **{x['two_worst_p999_ms']:.1f} ms** "
              "(935 ms when the issue was filed, 1,428 ms with the build before the fix in a run just before this one). The cause was SQLite's busy timeout: a process that finds the write lock taken sleeps "
              "1, 2, 5, … then 100 ms between tries, while the other process's group committer, under load, takes the lock again at once after "
              "each commit and wins every race. The catalog now polls the lock every 0.2 ms, then every 1 ms (for 30 s in all), so the waiting "
              "process gets in at the holder's next commit.", ""]
else:
    lines += kept(heading, "two-servers.sh")

open(os.path.join(here, "RESULTS.md"), "w").write("\n".join(lines))
print("wrote bench/RESULTS.md")
