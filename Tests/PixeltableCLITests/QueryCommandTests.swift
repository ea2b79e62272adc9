import Foundation
import Testing

/// Tables with float, string and composite keys, one without a key, and one with an unstored
/// computed column.
private let keysModule = """
    [[table]]
    path = "fk"
    primary_key = ["k"]

    [table.columns]
    k = "Float"
    v = "String"

    [[table]]
    path = "sk"
    primary_key = ["name"]

    [table.columns]
    name = "String"
    n = "Int"

    [[table]]
    path = "ck"
    primary_key = ["a", "b"]

    [table.columns]
    a = "Int"
    b = "String"
    c = "Json"

    [[table]]
    path = "np"

    [table.columns]
    a = "Int"
    flag = "Bool"

    [[table.computed]]
    name = "inv"
    expr = "1 / a"
    on_error = "ignore"

    [[table]]
    path = "lz"
    primary_key = ["id"]

    [table.columns]
    id = "Int"
    name = "String"

    [[table.computed]]
    name = "shout"
    expr = "name.upper()"
    stored = false
    """

private func seedKeys(_ env: CLIEnv) {
    env.apply("keys.toml", keysModule)
    #expect(env.run(["insert", "fk"], stdin: "{\"k\": 1.5, \"v\": \"x\"}\n").code == 0)
    #expect(env.run(["insert", "sk"], stdin: "{\"name\": \"abc\", \"n\": 1}\n{\"name\": \"42\", \"n\": 2}\n").code == 0)
    #expect(env.run(["insert", "ck"], stdin: "{\"a\": 1, \"b\": \"x\", \"c\": {\"q\": [1, 2], \"s\": \"t\"}}\n").code == 0)
    #expect(env.run(["insert", "np"], stdin: "{\"a\": 0, \"flag\": true}\n{\"a\": 2, \"flag\": null}\n").code == 0)
    #expect(env.run(["insert", "lz"], stdin: "{\"id\": 1, \"name\": \"ann\"}\n").code == 0)
}

@Suite("Query commands: rows, get, count, errors")
struct QueryCommandTests {
    // MARK: rows

    @Test func rowsText() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["rows", "demo/films"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.first == "id\ttitle\tyear\trating\ttitle_upper\tper_year")
            #expect(r.lines.count == 4)
            // The failed cell is null: it prints empty, never `None`.
            #expect(r.lines.contains("1\tAlien\t1979\t8.5\tALIEN\t"))
            #expect(r.lines.contains { $0.hasPrefix("2\tBrazil\t1985\t7.9\tBRAZIL\t1.3") })
            #expect(!r.out.contains("None"))

            let two = env.run(["rows", "demo/films", "-n", "2"])
            #expect(two.lines.count == 3)
            let cols = env.run(["rows", "demo/films", "--cols", "id,title", "-n", "1"])
            #expect(cols.lines.first == "id\ttitle")
            #expect(cols.lines.count == 2)
            #expect(cols.lines.last?.components(separatedBy: "\t").count == 2)
        }
    }

    @Test func rowsPythonStyleValues() {
        withCLI { env in
            seedKeys(env)
            let np = env.run(["rows", "np"])
            #expect(np.lines.first == "a\tflag\tinv")
            #expect(Set(np.lines.dropFirst()) == ["0\tTrue\t", "2\t\t0.5"])
            let ck = env.run(["rows", "ck"])
            #expect(ck.lines == ["a\tb\tc", "1\tx\t{'q': [1, 2], 's': 't'}"])
        }
    }

    @Test func valuesPrintAsPythonsStrAndJSONDumps() {
        withCLI { env in
            env.apply("types.toml", """
                [[table]]
                path = "ty"
                primary_key = ["id"]

                [table.columns]
                id = "Int"
                f = "Float"
                ts = "Timestamp"
                d = "Date"
                j = "Json"
                s = "String"
                b = "Bool"
                """)
            let rows = """
                {"id": 1, "f": 8.0, "ts": "2024-01-02T03:04:05+00:00", "d": "2024-01-02", "j": {"a": null, "b": true, "c": 1.0}, "s": "it's", "b": false}
                {"id": 2, "f": 1e20, "j": [1, "two"]}

                """
            #expect(env.run(["insert", "ty"], stdin: rows).code == 0)
            let text = env.run(["rows", "ty"])
            #expect(text.lines.first == "id\tf\tts\td\tj\ts\tb")
            #expect(text.lines.dropFirst().first == "1\t8.0\t2024-01-02 03:04:05+00:00\t2024-01-02\t{'a': None, 'b': True, 'c': 1.0}\tit's\tFalse")
            #expect(text.lines.last == "2\t1e+20\t\t\t[1, 'two']\t\t")
            #expect(env.run(["get", "ty", "1", "--cols", "f,b"]).lines == ["f\t8.0", "b\tFalse"])
            let json = env.run(["rows", "ty", "--json", "-n", "1"])
            #expect(json.out.contains("\"f\": 8.0,"), "a whole float stays a float: \(json.out)")
            #expect(json.out.contains("\"ts\": \"2024-01-02 03:04:05+00:00\""), "timestamps as str(): \(json.out)")
            #expect(json.out.contains("\"b\": false"))
        }
    }

    @Test func rowsJSON() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["rows", "demo/films", "--json"])
            #expect(r.code == 0)
            let rows = r.objects
            #expect(rows.count == 3)
            #expect(rows.allSatisfy { Set($0.keys) == ["id", "title", "year", "rating", "title_upper", "per_year"] })
            let alien = rows.first { jsonInt($0["id"]) == 1 }
            #expect(alien?["title"] as? String == "Alien")
            #expect(isJSONNull(alien?["per_year"]))
            let limited = env.run(["rows", "demo/films", "--json", "-n", "1", "--cols", "title"]).objects
            #expect(limited.count == 1)
            #expect(limited.first.map { Array($0.keys) } == ["title"])
        }
    }

    @Test func rowsSkipsUnstoredComputedColumnsUnlessAsked() {
        withCLI { env in
            seedKeys(env)
            #expect(env.run(["rows", "lz"]).lines == ["id\tname", "1\tann"])
            #expect(env.run(["rows", "lz", "--cols", "id,shout"]).lines == ["id\tshout", "1\tANN"])
            #expect(env.run(["get", "lz", "1"]).lines == ["id\t1", "name\tann"])
            #expect(env.run(["get", "lz", "1", "--cols", "shout"]).lines == ["shout\tANN"])
        }
    }

    @Test func rowsErrors() {
        withCLI { env in
            seedFilms(env)
            let zero = env.run(["rows", "demo/films", "-n", "0"])
            #expect(zero.code == 1)
            #expect(zero.err.contains("'n' must be >= 1"), "\(zero.err)")
            let big = env.run(["rows", "demo/films", "-n", "1001"])
            #expect(big.code == 1)
            #expect(big.err.contains("'n' must be <= 1000"), "\(big.err)")
            #expect(env.run(["rows", "demo/films", "-n", "1000"]).code == 0)
            let unknown = env.run(["rows", "demo/films", "--cols", "id,zz"])
            #expect(unknown.code == 1)
            #expect(unknown.err.contains("unknown columns: zz"), "\(unknown.err)")
            let missing = env.run(["rows", "demo/nope"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
        }
    }

    @Test(arguments: ["id,", ",id", "id,,title"])
    func colsWithAnEmptyTokenIsAUsageError(_ cols: String) {
        withCLI { env in
            for command in [["rows", "t"], ["get", "t", "1"]] {
                let r = env.run(command + ["--cols", cols])
                #expect(r.code == 2, "\(command) --cols \(cols): \(r.transcript)")
                #expect(r.err.hasPrefix("usage: "))
                #expect(r.err.contains("--cols token must not be empty; got '\(cols)'"))
            }
        }
    }

    @Test func colsEmptyTokenIsAlsoRejectedByTheDaemon() {
        withCLI { env in
            seedFilms(env)
            let reply = env.api("GET", "/api/tables/rows?path=demo/films&cols=a,,b")
            #expect(reply?.status == 422)
            #expect((reply?.object["detail"] as? String) == "comma-separated value contains an empty token: 'a,,b'")
        }
    }

    // MARK: get

    @Test func getByIntegerKey() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["get", "demo/films", "2"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.count == 6)
            #expect(Array(r.lines.prefix(5)) == ["id\t2", "title\tBrazil", "year\t1985", "rating\t7.9", "title_upper\tBRAZIL"])
            #expect(r.lines.last?.hasPrefix("per_year\t1.3") == true)
            // A null cell prints empty.
            #expect(env.run(["get", "demo/films", "1"]).lines.last == "per_year\t")
            #expect(env.run(["get", "demo/films", "2", "--cols", "id,title"]).lines == ["id\t2", "title\tBrazil"])
            // Whitespace around a numeric token is ignored, as int(' 2 ') is.
            #expect(env.run(["get", "demo/films", " 2 "]).lines.first == "id\t2")
        }
    }

    @Test func getMissingRow() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["get", "demo/films", "99"])
            #expect(r.code == 0)
            #expect(r.out == "no row found for {id='99'}\n")
            let json = env.run(["get", "demo/films", "99", "--json"]).object
            #expect(json["pk_columns"] as? [String] == ["id"])
            #expect(isJSONNull(json["row"]))
        }
    }

    @Test func getJSON() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["get", "demo/films", "3", "--json"])
            #expect(r.code == 0)
            #expect(Set(r.object.keys) == ["pk_columns", "row"])
            #expect(r.object["pk_columns"] as? [String] == ["id"])
            let row = r.object["row"] as? [String: Any]
            #expect(jsonInt(row?["id"]) == 3)
            #expect(row?["title"] as? String == "Blade Runner")
            #expect(row?["title_upper"] as? String == "BLADE RUNNER")
            let limited = env.run(["get", "demo/films", "3", "--json", "--cols", "title"]).object["row"] as? [String: Any]
            #expect(limited.map { Array($0.keys) } == ["title"])
        }
    }

    @Test func getCoercesKeys() {
        withCLI { env in
            seedKeys(env)
            #expect(env.run(["get", "fk", "1.5"]).lines == ["k\t1.5", "v\tx"])
            #expect(env.run(["get", "sk", "abc"]).lines == ["name\tabc", "n\t1"])
            #expect(env.run(["get", "sk", " abc"]).out == "no row found for {name=' abc'}\n", "a non-numeric token is kept as it is")
            // A numeric-looking token becomes an int, which a string key rejects.
            let numeric = env.run(["get", "sk", "42"])
            #expect(numeric.code == 1)
            #expect(numeric.err.hasPrefix("pxt: 422 "), "\(numeric.err)")
            // Composite keys, in declared order.
            let composite = env.run(["get", "ck", "1", "x"])
            #expect(composite.lines == ["a\t1", "b\tx", "c\t{'q': [1, 2], 's': 't'}"])
            let json = env.run(["get", "ck", "1", "x", "--json"]).object
            #expect(json["pk_columns"] as? [String] == ["a", "b"])
            let c = (json["row"] as? [String: Any])?["c"] as? [String: Any]
            #expect(c?["s"] as? String == "t")
            #expect(env.run(["get", "ck", "1", "y"]).out == "no row found for {a='1', b='y'}\n")
        }
    }

    @Test func getErrors() {
        withCLI { env in
            seedKeys(env)
            let arity = env.run(["get", "ck", "1"])
            #expect(arity.code == 1)
            #expect(arity.err.contains("expected 2 PK value(s) for ['a', 'b'], got 1"), "\(arity.err)")
            let tooMany = env.run(["get", "fk", "1", "2"])
            #expect(tooMany.err.contains("expected 1 PK value(s)"))
            let noKey = env.run(["get", "np", "1"])
            #expect(noKey.code == 1)
            #expect(noKey.err.contains("np: no primary key declared; row lookup requires one"), "\(noKey.err)")
            let unknown = env.run(["get", "fk", "1.5", "--cols", "zz"])
            #expect(unknown.code == 1)
            #expect(unknown.err.contains("unknown columns: zz"))
            let none = env.run(["get", "fk"])
            #expect(none.code == 2)
            #expect(none.err.contains("pk values are required for table row lookup"))
            for blank in ["", "  "] {
                let r = env.run(["get", "fk", blank])
                #expect(r.code == 2)
                #expect(r.err.contains("PK values must not be empty or whitespace-only"))
            }
            let missing = env.run(["get", "nope", "1"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
            let daemon = env.api("GET", "/api/tables/row?path=fk")
            #expect(daemon?.status == 422)
            #expect((daemon?.object["detail"] as? String)?.contains("missing or empty 'pk' query parameter") == true)
        }
    }

    // MARK: count

    @Test func countTextAndJSON() {
        withCLI { env in
            seedFilms(env)
            #expect(env.run(["insert", "demo/films"], stdin: (4...7).map { "{\"id\": \($0), \"title\": \"t\($0)\"}\n" }.joined()).code == 0)
            let r = env.run(["count", "demo/films"])
            #expect(r.code == 0)
            #expect(r.out == "7\n")
            let json = env.run(["count", "demo/films", "--json"])
            #expect(json.object.count == 2)
            #expect(json.object["path"] as? String == "demo/films")
            #expect(jsonInt(json.object["count"]) == 7)
            #expect(json.out.contains("\n  \"count\": 7"), "indent 2: \(json.out)")
        }
    }

    @Test func countErrors() {
        withCLI { env in
            seedFilms(env)
            #expect(env.run(["count", "demo"]).code != 0)
            let missing = env.run(["count", "demo/nope"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
        }
    }

    // MARK: errors

    @Test func errorsListsFailedCells() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["errors", "demo/films"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines.count == 1)
            let fields = r.lines.first?.components(separatedBy: "\t") ?? []
            #expect(fields.count == 4)
            #expect(fields.first == "{id: 1}")
            #expect(fields.dropFirst().first == "per_year")
            #expect(fields.count == 4 && !fields[2].isEmpty && !fields[3].isEmpty)

            let json = env.run(["errors", "demo/films", "--json"]).objects
            #expect(json.count == 1)
            #expect(Set(json.first.map { Array($0.keys) } ?? []) == ["pk", "column", "errortype", "errormsg"])
            #expect(jsonInt((json.first?["pk"] as? [String: Any])?["id"]) == 1)
            #expect(json.first?["column"] as? String == "per_year")

            #expect(env.run(["errors", "demo/films", "--col", "per_year"]).lines.count == 1)
            let none = env.run(["errors", "demo/films", "--col", "title_upper"])
            #expect(none.code == 0)
            #expect(none.out.isEmpty)
        }
    }

    @Test func errorsEmptyResult() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            #expect(env.run(["insert", "notes"], stdin: noteRows(1...3)).code == 0)
            let r = env.run(["errors", "notes"])
            #expect(r.code == 0)
            #expect(r.out.isEmpty)
            #expect(r.err.isEmpty)
            let json = env.run(["errors", "notes", "--json"])
            #expect(json.code == 0)
            #expect((json.json as? [Any])?.isEmpty == true, "\(json.out)")
        }
    }

    @Test func errorsArgumentErrors() {
        withCLI { env in
            seedFilms(env)
            seedKeys(env)
            let unknown = env.run(["errors", "demo/films", "--col", "zz"])
            #expect(unknown.code == 1)
            #expect(unknown.err.contains("unknown column: zz"), "\(unknown.err)")
            let plain = env.run(["errors", "demo/films", "--col", "title"])
            #expect(plain.code == 1)
            #expect(plain.err.contains("title: not a stored computed column (errors view only addresses those)"), "\(plain.err)")
            let unstored = env.run(["errors", "lz", "--col", "shout"])
            #expect(unstored.code == 1)
            #expect(unstored.err.contains("not a stored computed column"))
            let noKey = env.run(["errors", "np"])
            #expect(noKey.code == 1)
            #expect(noKey.err.contains("np: no primary key declared; errors view requires one"), "\(noKey.err)")
        }
    }
}
