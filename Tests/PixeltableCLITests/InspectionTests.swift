import Foundation
import Testing

/// The offset just past the first occurrence of `label` in `header`: where a right-aligned
/// column ends.
private func columnEnd(_ header: String, _ label: String) -> Int? {
    guard let r = header.range(of: label) else { return nil }
    return header.distance(from: header.startIndex, to: r.upperBound)
}

/// Whether `line` has `value` right-aligned to end at `end`.
private func rightAligned(_ line: String, _ value: String, endingAt end: Int) -> Bool {
    guard line.count >= end else { return false }
    let prefix = line.prefix(end)
    guard prefix.hasSuffix(value) else { return false }
    let before = prefix.dropLast(value.count)
    return before.isEmpty || before.last == " "
}

/// A directory with a 12-row table, a 3-row table and a subdirectory.
private let countsModule = """
    [[dir]]
    path = "d"

    [[dir]]
    path = "d/sub"

    [[table]]
    path = "d/big"

    [table.columns]
    a = "Int"

    [[table]]
    path = "d/small"

    [table.columns]
    a = "Int"
    """

/// A table with an embedding index, and one with neither computed columns nor indexes.
private let embeddingModule = """
    [[dir]]
    path = "emb"

    [[table]]
    path = "emb/docs"
    primary_key = ["id"]

    [table.columns]
    id = "Int"
    body = "String"

    [[table.embedding_index]]
    name = "body_idx"
    column = "body"
    embedding = "text.embed_hash(dims=16)"
    metric = "cosine"

    [[table]]
    path = "emb/plain"

    [table.columns]
    a = "Int"
    """

/// A view over a table.
private let viewModule = """
    [[dir]]
    path = "vd"

    [[table]]
    path = "vd/base"
    primary_key = ["id"]

    [table.columns]
    id = "Int"
    body = "String"

    [[view]]
    path = "vd/v"
    base = "vd/base"
    where = "id > 1"
    """

@Suite("Inspection commands: ls, describe, columns, computed, idxs, history, status, config")
struct InspectionTests {
    // MARK: ls

    @Test func lsPlain() {
        withCLI { env in
            seedFilms(env)
            let root = env.run(["ls"])
            #expect(root.code == 0, "\(root.transcript)")
            #expect(root.lines == ["path  kind", "demo  dir"])
            let dir = env.run(["ls", "demo"])
            #expect(dir.lines == ["path        kind", "demo/films  table"])
            // A leading slash is an absolute path, not a shape error.
            #expect(env.run(["ls", "/demo"]).lines == dir.lines)
        }
    }

    @Test func lsEmptyDirectoryPrintsNothing() {
        withCLI { env in
            env.apply("empty.toml", "[[dir]]\npath = \"empty\"\n")
            let r = env.run(["ls", "empty"])
            #expect(r.code == 0)
            #expect(r.out.isEmpty)
            #expect(env.run(["ls", "empty", "-l", "--counts"]).out.isEmpty)
            let json = env.run(["ls", "empty", "--json"])
            #expect((json.object["entries"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func lsLong() {
        withCLI { env in
            seedFilms(env)
            env.apply("emb.toml", embeddingModule)
            let root = env.run(["ls", "-l"])
            #expect(root.code == 0)
            #expect(root.lines.first == "path  kind  cols  version  flags")
            // Directories have no column count or version and their empty flags print as `-`.
            for line in root.lines.dropFirst() {
                #expect(line.split(separator: " ").count == 3, "\(line)")
                #expect(line.hasSuffix("  -"))
            }
            let films = env.run(["ls", "--long", "demo"])
            #expect(films.lines.count == 2)
            #expect(films.lines.last?.split(separator: " ").map(String.init) == ["demo/films", "table", "6", "2", "ci"])
            // cols and version are right-aligned under their headers.
            if let header = films.lines.first, let line = films.lines.last, let cols = columnEnd(header, "cols"), let version = columnEnd(header, "version") {
                #expect(rightAligned(line, "6", endingAt: cols), "\(films.out)")
                #expect(rightAligned(line, "2", endingAt: version), "\(films.out)")
            }
            let emb = env.run(["ls", "-l", "emb"])
            let rows = Dictionary(uniqueKeysWithValues: emb.lines.dropFirst().map { l in
                let f = l.split(separator: " ").map(String.init)
                return (f[0], f)
            })
            // `i` alone: an embedding index and no computed column; `-`: neither.
            #expect(rows["emb/docs"] == ["emb/docs", "table", "2", "1", "i"])
            #expect(rows["emb/plain"] == ["emb/plain", "table", "1", "0", "-"])
        }
    }

    @Test func lsCountsRightAligned() {
        withCLI { env in
            env.apply("counts.toml", countsModule)
            #expect(env.run(["insert", "d/big"], stdin: (1...12).map { "{\"a\": \($0)}\n" }.joined()).code == 0)
            #expect(env.run(["insert", "d/small"], stdin: "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n").code == 0)
            let r = env.run(["ls", "d", "--counts"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines == ["path     kind   rows", "d/big    table    12", "d/small  table     3", "d/sub    dir"])
            let header = r.lines[0]
            #expect(rightAligned(r.lines[1], "12", endingAt: header.count))
            #expect(rightAligned(r.lines[2], "3", endingAt: header.count))

            let both = env.run(["ls", "d", "--counts", "-l"])
            #expect(both.lines.first == "path     kind   rows  cols  version  flags")
            #expect(both.lines.dropFirst().first?.split(separator: " ").map(String.init) == ["d/big", "table", "12", "1", "1", "-"])

            let json = env.run(["ls", "d", "--counts", "--json"])
            let entries = (json.object["entries"] as? [[String: Any]]) ?? []
            let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0["path"] as? String ?? "", $0) })
            #expect(jsonInt(byPath["d/big"]?["num_rows"]) == 12)
            #expect(jsonInt(byPath["d/small"]?["num_rows"]) == 3)
            #expect(isJSONNull(byPath["d/sub"]?["num_rows"]), "directories get no count")
        }
    }

    @Test func lsTree() {
        withCLI { env in
            seedFilms(env)
            env.apply("top.toml", "[[table]]\npath = \"top\"\n\n[table.columns]\na = \"Int\"\n")
            let r = env.run(["ls", "--tree"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines == ["|-- demo  directory", "|   \\-- films  table", "\\-- top  table"])
            let json = env.run(["ls", "--tree", "--json"])
            #expect((json.object["entries"] as? [Any])?.isEmpty == true)
            let tree = json.object["tree"] as? [String: Any]
            let top = (tree?["entries"] as? [[String: Any]]) ?? []
            #expect(top.map { $0["name"] as? String } == ["demo", "top"])
            #expect(top.first?["kind"] as? String == "directory")
            let films = (top.first?["entries"] as? [[String: Any]])?.first
            #expect(films?["name"] as? String == "films")
            #expect(films?["path"] as? String == "demo/films")
            #expect(films?["kind"] as? String == "table")
            #expect(jsonInt(films?["version"]) == 2)
            #expect(jsonInt(films?["error_count"]) == 1)
        }
    }

    @Test func lsJSONShapes() {
        withCLI { env in
            seedFilms(env)
            let root = env.run(["ls", "--json"])
            #expect(root.code == 0)
            #expect(Set(root.object.keys) == ["entries", "tree"])
            #expect(isJSONNull(root.object["tree"]))
            let entries = (root.object["entries"] as? [[String: Any]]) ?? []
            #expect(entries.count == 1)
            let demo = entries.first ?? [:]
            #expect(Set(demo.keys) == ["path", "kind", "num_rows", "num_cols", "last_version", "flags"])
            #expect(demo["path"] as? String == "demo")
            #expect(demo["kind"] as? String == "dir")

            // Without -l: num_cols null and flags "".
            let plain = env.run(["ls", "demo", "--json"])
            let films = ((plain.object["entries"] as? [[String: Any]]) ?? []).first ?? [:]
            #expect(films["path"] as? String == "demo/films", "JSON keeps the raw relative path")
            #expect(films["kind"] as? String == "table")
            #expect(isJSONNull(films["num_cols"]))
            #expect(films["flags"] as? String == "")
            #expect(isJSONNull(films["num_rows"]))
            #expect(jsonInt(films["last_version"]) == 2)

            // With -l: the column count and the flags.
            let long = env.run(["ls", "demo", "-l", "--json"])
            let detailed = ((long.object["entries"] as? [[String: Any]]) ?? []).first ?? [:]
            #expect(jsonInt(detailed["num_cols"]) == 6)
            #expect(detailed["flags"] as? String == "ci")
        }
    }

    @Test func lsErrors() {
        withCLI { env in
            seedFilms(env)
            let missing = env.run(["ls", "nope"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"), "\(missing.err)")
            // An HTTP error from the daemon prints as `pxt: {status} {detail}`.
            #expect(missing.err == "pxt: 404 Path 'nope' does not exist.\n")
            let table = env.run(["ls", "demo/films"])
            #expect(table.code == 1)
            #expect(table.err.contains("'demo/films' is a table, not a directory"), "\(table.err)")
            // A table in the middle of the path is named the same way.
            let mid = env.run(["ls", "demo/films/x"])
            #expect(mid.code == 1)
            #expect(mid.err.contains("'demo/films' is a table, not a directory"), "\(mid.err)")
        }
    }

    @Test func lsAfterDropNoLongerListsTheTable() {
        withCLI { env in
            seedFilms(env)
            #expect(env.run(["ls", "demo"]).out.contains("demo/films"))
            #expect(env.run(["drop", "demo/films", "-f"]).code == 0)
            let after = env.run(["ls", "demo"])
            #expect(after.code == 0)
            #expect(!after.out.contains("films"))
        }
    }

    // MARK: describe

    @Test func describeText() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["describe", "demo/films"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.first == "table 'demo/films'")
            #expect(r.lines.dropFirst().first == "")
            #expect(r.out.contains("Column Name"))
            #expect(r.out.contains("Computed With"))
            #expect(r.lines.dropFirst(2).first?.split(separator: " ", omittingEmptySubsequences: true) == ["Column", "Name", "Type", "Source", "Computed", "With", "Comment"])
            // Every column's source is the table that stores it, for a view its base table.
            #expect(r.lines.contains { $0.hasPrefix("title ") && $0.split(separator: " ", omittingEmptySubsequences: true).contains("films") })
            #expect(env.run(["schema", "update", env.write("v.toml", "[[view]]\npath = \"demo/recent\"\nbase = \"demo/films\"\nwhere = \"year > 1980\"\n")]).code == 0)
            let view = env.run(["describe", "demo/recent"])
            #expect(view.lines.first == "view 'demo/recent' (of 'demo/films')", "\(view.transcript)")
            #expect(view.lines.contains { $0.hasPrefix("title ") && $0.split(separator: " ", omittingEmptySubsequences: true).contains("films") }, "\(view.out)")
            #expect(r.out.contains("title.upper()"))
            #expect(r.out.contains("Film title"))
            #expect(r.out.contains("idx_year"))
        }
    }

    @Test func describeJSONMetadata() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["describe", "demo/films", "--json"])
            #expect(r.code == 0)
            let m = r.object
            #expect(
                Set(m.keys) == [
                    "id", "name", "path", "kind", "columns", "indexes", "is_data_versioned", "has_default_idxs", "is_view", "is_snapshot", "version",
                    "version_created", "schema_version", "comment", "custom_metadata", "media_validation", "primary_key", "base", "view_filter",
                    "view_sample", "iterator_call",
                ])
            #expect(m["name"] as? String == "films")
            #expect(m["path"] as? String == "demo/films")
            #expect(m["kind"] as? String == "table")
            #expect(m["comment"] as? String == "Films")
            #expect(m["primary_key"] as? [String] == ["id"])
            #expect(jsonInt(m["version"]) == 2)
            #expect(m["is_view"] as? Bool == false)
            #expect(UUID(uuidString: m["id"] as? String ?? "") != nil)
            let columns = (m["columns"] as? [String: [String: Any]]) ?? [:]
            #expect(Set(columns.keys) == ["id", "title", "year", "rating", "title_upper", "per_year"])
            #expect(
                Set(columns["title"].map { Array($0.keys) } ?? []) == [
                    "name", "type_", "version_added", "is_stored", "is_primary_key", "media_validation", "is_computed", "computed_with", "is_builtin",
                    "depends_on", "defined_in", "comment", "custom_metadata", "is_iterator_col", "destination",
                ])
            #expect(columns["title"]?["comment"] as? String == "Film title")
            #expect(columns["title"]?["type_"] as? String == "String")
            #expect(columns["year"]?["type_"] as? String == "Int | None")
            #expect(columns["id"]?["is_primary_key"] as? Bool == true)
            #expect(columns["title_upper"]?["is_computed"] as? Bool == true)
            #expect(columns["title_upper"]?["computed_with"] as? String == "title.upper()")
            let indexes = (m["indexes"] as? [String: [String: Any]]) ?? [:]
            let idx = indexes["idx_year"]
            #expect(Set(idx.map { Array($0.keys) } ?? []) == ["name", "columns", "index_type", "parameters"])
            #expect(idx?["index_type"] as? String == "btree")
            #expect(idx?["columns"] as? [String] == ["year"])
            #expect(isJSONNull(idx?["parameters"]))
        }
    }

    @Test func describeViewAndEmbeddingIndex() {
        withCLI { env in
            env.apply("views.toml", viewModule)
            let text = env.run(["describe", "vd/v"])
            #expect(text.code == 0, "\(text.transcript)")
            #expect(text.lines.first == "view 'vd/v' (of 'vd/base')")
            #expect(text.out.contains("Where: id > 1"))
            let json = env.run(["describe", "vd/v", "--json"]).object
            #expect(json["kind"] as? String == "view")
            #expect(json["is_view"] as? Bool == true)
            #expect(json["base"] as? String == "vd/base")

            env.apply("emb.toml", embeddingModule)
            let emb = env.run(["describe", "emb/docs", "--json"]).object
            let idx = (emb["indexes"] as? [String: [String: Any]])?["body_idx"]
            #expect(idx?["index_type"] as? String == "embedding")
            let params = idx?["parameters"] as? [String: Any]
            #expect(params?["metric"] as? String == "cosine")
            #expect(params?["embedding"] as? String == "text.embed_hash(dims=16)")
        }
    }

    @Test func describeMissingTable() {
        withCLI { env in
            let r = env.run(["describe", "nope"])
            #expect(r.code == 1)
            #expect(r.err.contains("does not exist"))
            let shape = env.run(["describe", "a.b"])
            #expect(shape.code == 2)
            #expect(shape.err.contains("separator"))
        }
    }

    // MARK: columns and computed

    static let filmColumnLines = [
        "/demo/films\tid\tInt\tstored\t",
        "/demo/films\ttitle\tString\tstored\t",
        "/demo/films\tyear\tInt | None\tstored\t",
        "/demo/films\trating\tFloat | None\tstored\t",
        "/demo/films\ttitle_upper\tString | None\tcomputed\ttitle.upper()",
        "/demo/films\tper_year\tFloat | None\tcomputed\trating / (year - 1979)",
    ]

    @Test func columnsOfATableADirectoryAndTheCatalog() {
        withCLI { env in
            seedFilms(env)
            env.apply("top.toml", "[[table]]\npath = \"top\"\n\n[table.columns]\na = \"Int\"\n")
            let one = env.run(["columns", "demo/films"])
            #expect(one.code == 0, "\(one.transcript)")
            #expect(one.lines == Self.filmColumnLines)
            // A directory is walked recursively.
            #expect(env.run(["columns", "demo"]).lines == Self.filmColumnLines)
            // No path: every column of the catalog.
            let all = env.run(["columns"])
            #expect(Set(all.lines) == Set(Self.filmColumnLines + ["/top\ta\tInt | None\tstored\t"]))
            #expect(all.lines.count == 7)
            // --computed restricts to computed columns.
            #expect(env.run(["columns", "--computed"]).lines == Array(Self.filmColumnLines.suffix(2)))
        }
    }

    @Test func computedIsColumnsComputed() {
        withCLI { env in
            seedFilms(env)
            let expected = ["/demo/films\ttitle_upper\tString | None\ttitle.upper()", "/demo/films\tper_year\tFloat | None\trating / (year - 1979)"]
            #expect(env.run(["computed"]).lines == expected)
            #expect(env.run(["computed", "demo/films"]).lines == expected)
            #expect(env.run(["computed", "--computed", "demo"]).lines == expected)
            let json = env.run(["computed", "--json"])
            #expect(json.objects.map { $0["column"] as? String } == ["title_upper", "per_year"])
        }
    }

    @Test func columnsJSON() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["columns", "demo/films", "--json"])
            #expect(r.code == 0)
            let entries = r.objects
            #expect(entries.count == 6)
            for e in entries {
                #expect(Set(e.keys).isSuperset(of: ["table", "column", "is_computed", "type_", "computed_with", "depends_on"]), "\(e)")
                #expect(e["table"] as? String == "demo/films")
            }
            let upper = entries.first { $0["column"] as? String == "title_upper" }
            #expect(upper?["is_computed"] as? Bool == true)
            #expect(upper?["computed_with"] as? String == "title.upper()")
            #expect(isJSONNull(entries.first?["computed_with"]))
        }
    }

    @Test func columnsErrors() {
        withCLI { env in
            let missing = env.run(["columns", "nope"])
            #expect(missing.code != 0)
            #expect(missing.err.contains("does not exist"))
            let shape = env.run(["columns", "x/"])
            #expect(shape.code == 2)
            #expect(shape.err.contains("must not end with '/'"))
        }
    }

    // MARK: idxs

    @Test func idxsListsBTreeIndexes() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["idxs", "demo/films"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.contains("/demo/films\tidx_year\tbtree\tyear"))
            #expect(r.lines.allSatisfy { $0.split(separator: "\t").count == 4 })
            #expect(env.run(["idxs", "demo/films", "--embedding"]).out.isEmpty)
            let json = env.run(["idxs", "demo/films", "--json"]).objects
            let year = json.first { $0["name"] as? String == "idx_year" }
            #expect(Set(year.map { Array($0.keys) } ?? []) == ["table", "name", "columns", "index_type", "metric", "embedding"])
            #expect(year?["columns"] as? [String] == ["year"])
            #expect(year?["index_type"] as? String == "btree")
        }
    }

    @Test func idxsEmbeddingFilter() {
        withCLI { env in
            seedFilms(env)
            env.apply("emb.toml", embeddingModule)
            let all = env.run(["idxs"])
            #expect(all.lines.contains("/demo/films\tidx_year\tbtree\tyear"))
            #expect(all.lines.contains("/emb/docs\tbody_idx\tembedding\tbody\tcosine\ttext.embed_hash(dims=16)"))
            // --embedding adds what the index holds.
            let emb = env.run(["idxs", "--embedding"])
            #expect(emb.lines == ["/emb/docs\tbody_idx\tembedding\tbody\tcosine\ttext.embed_hash(dims=16)\tmodel=-\tdims=-\trows=0\tann=exact"])
            let json = env.run(["idxs", "--embedding", "--json"]).objects
            #expect(json.count == 1)
            #expect(json.first?["metric"] as? String == "cosine")
            #expect(json.first?["embedding"] as? String == "text.embed_hash(dims=16)")
        }
    }

    // MARK: history

    @Test func historyTimeline() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            for batch in 0..<4 {
                #expect(env.run(["insert", "notes"], stdin: noteRows((batch * 10)..<(batch * 10 + 3))).code == 0)
            }
            let r = env.run(["history", "notes"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.first == "version\tcreated_at\tchange_type\tinserts\tupdates\tdeletes\terrors\tschema_change")
            let rows = r.lines.dropFirst().map { $0.components(separatedBy: "\t") }
            #expect(rows.count == 5)
            #expect(rows.map { $0.first ?? "" } == ["4", "3", "2", "1", "0"], "newest first")
            #expect(rows.allSatisfy { $0.count == 8 })
            let newest = rows.first ?? []
            #expect(Array(newest.dropFirst(2)) == ["data", "3", "0", "0", "0", ""], "a null schema_change prints empty")
            #expect(newest.count > 1 && newest[1].hasSuffix("Z") && newest[1].contains("T"), "ISO created_at: \(newest)")
            let oldest = rows.last ?? []
            #expect(oldest.dropFirst(2).first == "schema")
            #expect(oldest.last == "Added: id, note")
            #expect(!r.out.contains("None"))

            let two = env.run(["history", "notes", "-n", "2"])
            #expect(two.lines.count == 3)
            #expect(two.lines.dropFirst().map { $0.prefix(2) } == ["4\t", "3\t"])
        }
    }

    @Test func historyJSON() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            #expect(env.run(["insert", "notes"], stdin: noteRows(1...2)).code == 0)
            let r = env.run(["history", "notes", "--json"])
            #expect(r.code == 0)
            let versions = r.objects
            #expect(versions.map { jsonInt($0["version"]) } == [1, 0])
            for v in versions {
                #expect(
                    Set(v.keys) == ["version", "created_at", "user", "change_type", "inserts", "updates", "deletes", "errors", "schema_change"], "\(v)")
            }
            #expect(versions.first?["change_type"] as? String == "data")
            #expect(jsonInt(versions.first?["inserts"]) == 2)
            #expect(isJSONNull(versions.first?["schema_change"]))
            #expect(versions.last?["schema_change"] as? String == "Added: id, note")
            #expect(env.run(["history", "notes", "-n", "1", "--json"]).objects.count == 1)
        }
    }

    @Test func historyArgumentErrors() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            let zero = env.run(["history", "notes", "-n", "0"])
            #expect(zero.code == 2)
            #expect(zero.err.contains("must be >= 1"))
            let missing = env.run(["history", "nope"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
            // The daemon checks `n` itself, as Pixeltable's does.
            let abc = env.api("GET", "/api/tables/history?path=notes&n=abc")
            #expect(abc?.status == 422)
            #expect((abc?.object["detail"] as? String)?.contains("'n' must be an integer; got 'abc'") == true)
            for bad in ["0", "-3"] {
                let reply = env.api("GET", "/api/tables/history?path=notes&n=\(bad)")
                #expect(reply?.status == 422)
                #expect((reply?.object["detail"] as? String)?.contains("'n' must be >= 1") == true, "n=\(bad): \(reply?.body ?? "")")
            }
        }
    }

    // MARK: status

    static let statusKeys = ["pxt_version", "daemon_pid", "daemon_started", "home", "db_url", "media_dir", "file_cache_dir", "total_tables", "total_errors"]

    @Test func statusText() {
        withCLI { env in
            seedFilms(env)
            let pid = env.daemonPID()
            let r = env.run(["status"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.map { String($0.prefix(while: { $0 != " " })) } == Self.statusKeys)
            var values: [String: String] = [:]
            for line in r.lines {
                // Keys are padded to one column: `key<spaces>value`, the value at offset 16.
                #expect(line.count > 16 && line.dropFirst(14).hasPrefix("  "), "misaligned: \(line)")
                values[String(line.prefix(while: { $0 != " " }))] = String(line.dropFirst(16))
            }
            #expect(values["home"] == env.home, "the home is reported raw")
            #expect(values["daemon_pid"] == pid.map { String($0) })
            #expect(values["pxt_version"] == env.run(["--version"]).out.trimmingCharacters(in: .newlines).replacingOccurrences(of: "pxt ", with: ""))
            #expect(values["total_tables"] == "1")
            #expect(values["total_errors"] == "1")
            #expect(!r.out.contains("("), "no sizes without --sizes")
        }
    }

    @Test func statusSizes() {
        withCLI { env in
            #expect(env.run(["health"]).code == 0)
            let media = env.home + "/media"
            try? FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: media + "/blob.bin", contents: Data(repeating: 7, count: 2048)))
            let r = env.run(["status", "--sizes"])
            #expect(r.code == 0, "\(r.transcript)")
            let mediaLine = r.lines.first { $0.hasPrefix("media_dir ") } ?? ""
            #expect(mediaLine.hasSuffix("\(media)  (2.0KB)"), "\(mediaLine)")
            let cacheLine = r.lines.first { $0.hasPrefix("file_cache_dir ") } ?? ""
            #expect(cacheLine.hasSuffix("  (0B)"), "\(cacheLine)")

            let json = env.run(["status", "--sizes", "--json"]).object
            #expect(jsonInt(json["media_size_bytes"]) == 2048)
            #expect(jsonInt(json["file_cache_size_bytes"]) == 0)
        }
    }

    @Test func statusJSON() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["status", "--json"])
            #expect(r.code == 0)
            let s = r.object
            #expect(
                Set(s.keys) == [
                    "pxt_version", "pid", "started_at", "home", "db_url", "media_dir", "file_cache_dir", "media_size_bytes", "file_cache_size_bytes",
                    "total_tables", "total_errors",
                ])
            #expect(s["home"] as? String == env.home)
            #expect(isJSONNull(s["media_size_bytes"]))
            #expect(isJSONNull(s["file_cache_size_bytes"]))
            #expect(jsonInt(s["total_tables"]) == 1)
            #expect(jsonInt(s["total_errors"]) == 1)
            #expect(jsonInt(s["pid"]).map { Int32($0) } == env.daemonPID())
        }
    }

    // MARK: config

    @Test func configText() {
        withCLI { env in
            let r = env.run(["config"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.first == "config_file  \(env.home)/config.toml")
            let notSet = r.lines.first { $0.hasPrefix("not set: ") } ?? ""
            #expect(notSet.contains("openai.api_key"))
            #expect(notSet.contains("pixeltable.time_zone"))
            // `not set:` follows a blank line.
            if let i = r.lines.firstIndex(of: notSet), i > 0 { #expect(r.lines[i - 1] == "") }
        }
    }

    @Test func configSourcesAndRedaction() {
        withCLI { env in
            let file = env.home + "/config.toml"
            try? FileManager.default.createDirectory(atPath: env.home, withIntermediateDirectories: true)
            try? "[openai]\napi_key = \"sk-test-do-not-print\"\nbase_url = \"https://proxy-user:pw-do-not-print@llm.internal/v1\"\n\n[pixeltable]\nverbosity = 2\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            env.extraEnv["PIXELTABLE_TIME_ZONE"] = "America/New_York"
            let r = env.run(["config"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(!r.out.contains("sk-test-do-not-print"), "a credential was printed")
            let set = r.lines.dropFirst().prefix { !$0.isEmpty }
            let fields = set.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(fields.contains(["openai.api_key", "[\(file)]", "<redacted>"]), "\(r.out)")
            #expect(fields.contains(["pixeltable.verbosity", "[\(file)]", "2"]), "\(r.out)")
            // A password inside a URL is masked, the rest of the URL shown.
            #expect(!r.out.contains("pw-do-not-print"), "a password in a URL was printed")
            #expect(fields.contains(["openai.base_url", "[\(file)]", "https://proxy-user:***@llm.internal/v1"]), "\(r.out)")
            #expect(fields.contains(["pixeltable.time_zone", "[env]", "America/New_York"]), "\(r.out)")
            #expect(!(r.lines.first { $0.hasPrefix("not set: ") } ?? "").contains("openai.api_key"))

            let env_ = env.run(["config", "--source", "env"])
            #expect(env_.lines.dropFirst().filter { !$0.isEmpty && !$0.hasPrefix("not set") }.count == 1)
            #expect(env_.out.contains("pixeltable.time_zone"))
            #expect(!env_.out.contains("openai.api_key  "))

            let section = env.run(["config", "--section", "openai", "--json"]).object
            let entries = (section["entries"] as? [[String: Any]]) ?? []
            #expect(Set(entries.compactMap { $0["section"] as? String }) == ["openai"])
            let key = entries.first { $0["key"] as? String == "api_key" }
            #expect(key?["value"] as? String == "<redacted>")
            #expect(key?["source"] as? String == file)

            let bySource = env.run(["config", "--source", "unset", "--json"]).object
            #expect(((bySource["entries"] as? [[String: Any]]) ?? []).allSatisfy { $0["source"] as? String == "unset" && isJSONNull($0["value"]) })
        }
    }

    @Test func configVerbose() {
        withCLI { env in
            let r = env.run(["config", "-v"])
            #expect(r.code == 0)
            #expect(r.lines.first == "config_file  \(env.home)/config.toml")
            let key = r.lines.firstIndex { $0.hasPrefix("openai.api_key ") }
            #expect(key != nil)
            if let key {
                #expect(r.lines[key].contains("[unset]"))
                #expect(r.lines[key].hasSuffix("  -"))
                // The description and expected type follow, indented.
                #expect(r.lines[key + 1].hasPrefix("    "))
                #expect(r.lines[key + 1].hasSuffix("(str)"))
            }
            #expect(!r.out.contains("not set:"))
            #expect(env.run(["config", "--verbose", "--section", "openai"]).lines.filter { $0.hasPrefix("openai.") }.count == 2)
        }
    }

    @Test func configJSONEntries() {
        withCLI { env in
            let r = env.run(["config", "--json"])
            #expect(r.code == 0)
            let c = r.object
            #expect(c["config_file"] as? String == env.home + "/config.toml")
            let entries = (c["entries"] as? [[String: Any]]) ?? []
            #expect(!entries.isEmpty)
            for e in entries {
                #expect(Set(e.keys) == ["section", "key", "value", "source", "description", "expected_type"], "\(e)")
            }
            let key = entries.first { $0["section"] as? String == "openai" && $0["key"] as? String == "api_key" }
            #expect(key != nil)
            #expect(isJSONNull(key?["value"]) || key?["value"] as? String == "<redacted>")
        }
    }

    @Test func configNeverPrintsAnEnvironmentCredential() {
        withCLI { env in
            env.extraEnv["OPENAI_API_KEY"] = "sk-env-secret-value"
            for args in [["config"], ["config", "--json"], ["config", "-v"], ["health"], ["status", "--json"], ["daemon", "status", "--json"]] {
                let r = env.run(args)
                #expect(r.code == 0, "\(args): \(r.transcript)")
                #expect(!r.out.contains("sk-env-secret-value") && !r.err.contains("sk-env-secret-value"), "\(args) printed the key")
            }
            let entry = ((env.run(["config", "--source", "env", "--json"]).object["entries"] as? [[String: Any]]) ?? []).first
            #expect(entry?["key"] as? String == "api_key")
            #expect(entry?["value"] as? String == "<redacted>")
            #expect(entry?["source"] as? String == "env")
        }
    }
}
