import Foundation
import Testing

/// A directory with a subdirectory, for the working-directory tests.
private let navModule = """
    [[dir]]
    path = "nav"

    [[dir]]
    path = "nav/sub"

    [[table]]
    path = "nav/t"
    primary_key = ["id"]

    [table.columns]
    id = "Int"
    note = "String"

    [[table.index]]
    column = "note"
    """

@Suite("Working directory, path shapes and the shell")
struct NavigationShellTests {
    // MARK: cd and pwd

    @Test func cdAndPwd() {
        withCLI { env in
            env.apply("nav.toml", navModule)
            #expect(env.run(["pwd"]).out == "(no working directory)\n")
            let cd = env.run(["cd", "nav"])
            #expect(cd.code == 0, "\(cd.transcript)")
            #expect(cd.out == "working directory: /nav\n")
            #expect(env.run(["pwd"]).out == "/nav\n")
            // Relative paths resolve against the working directory.
            #expect(env.run(["ls"]).lines == ["path     kind", "nav/sub  dir", "nav/t    table"])
            #expect(env.run(["insert", "t"], stdin: noteRows(1...2)).code == 0)
            #expect(env.run(["count", "t"]).out == "2\n")
            #expect(env.run(["get", "t", "1"]).lines == ["id\t1", "note\tnote 1"])
            // columns and idxs honour it too.
            #expect(env.run(["columns"]).lines == ["/nav/t\tid\tInt\tstored\t", "/nav/t\tnote\tString | None\tstored\t"])
            #expect(env.run(["idxs"]).lines.contains("/nav/t\tidx_note\tbtree\tnote"))
            // A relative cd goes further down; `.` stays.
            #expect(env.run(["cd", "sub"]).out == "working directory: /nav/sub\n")
            #expect(env.run(["cd", "."]).out == "working directory: /nav/sub\n")
            #expect(env.run(["pwd"]).out == "/nav/sub\n")
            #expect(env.run(["count", "../t"]).out == "2\n")
            #expect(env.run(["cd", ".."]).out == "working directory: /nav\n")
            // `..` at the top clears it.
            #expect(env.run(["cd", ".."]).out == "working directory cleared\n")
            #expect(env.run(["pwd"]).out == "(no working directory)\n")
            #expect(env.run(["cd", ".."]).out == "working directory cleared\n")
        }
    }

    @Test func cdWithoutArgumentOrToRootClears() {
        withCLI { env in
            env.apply("nav.toml", navModule)
            #expect(env.run(["cd", "nav"]).code == 0)
            #expect(env.run(["cd"]).out == "working directory cleared\n")
            #expect(env.run(["pwd"]).out == "(no working directory)\n")
            #expect(env.run(["cd", "nav/sub"]).code == 0)
            #expect(env.run(["cd", "/"]).out == "working directory cleared\n")
            #expect(env.run(["ls"]).lines == ["path  kind", "nav   dir"])
        }
    }

    @Test func absolutePathsIgnoreTheWorkingDirectory() {
        withCLI { env in
            env.apply("nav.toml", navModule)
            #expect(env.run(["insert", "nav/t"], stdin: noteRows(1...3)).code == 0)
            #expect(env.run(["cd", "nav/sub"]).code == 0)
            #expect(env.run(["count", "/nav/t"]).out == "3\n")
            #expect(env.run(["ls", "/"]).lines == ["path  kind", "nav   dir"])
            #expect(env.run(["cd", "/nav/sub"]).out == "working directory: /nav/sub\n")
            #expect(env.run(["pwd"]).out == "/nav/sub\n")
            #expect(env.run(["count", "t"]).code == 1, "t is not in /nav/sub")
        }
    }

    @Test func cdErrors() {
        withCLI { env in
            env.apply("nav.toml", navModule)
            let dotted = env.run(["cd", "a.b"])
            #expect(dotted.code == 2)
            #expect(dotted.err.contains("separator"))
            let missing = env.run(["cd", "nope"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
            let table = env.run(["cd", "nav/t"])
            #expect(table.code == 1, "\(table.transcript)")
            #expect(env.run(["pwd"]).out == "(no working directory)\n", "a failed cd changed the working directory")
        }
    }

    @Test func moveWithAWorkingDirectory() {
        withCLI { env in
            env.apply("nav.toml", navModule)
            #expect(env.run(["cd", "nav"]).code == 0)
            #expect(env.run(["mv", "t", "sub", "-n"]).out == "would move /nav/t -> /nav/sub/t\n")
            #expect(env.run(["mv", "t", "/", "-n"]).out == "would move /nav/t -> /t\n")
            #expect(env.run(["mv", "t", "sub"]).out == "moved /nav/t -> /nav/sub/t\n")
            #expect(env.run(["mv", "sub/t", "."]).out == "moved /nav/sub/t -> /nav/t\n")
            #expect(env.run(["rename", "t", "u"]).out == "renamed /nav/t -> /nav/u\n")
            // An empty destination is the working directory itself.
            #expect(env.run(["mv", "u", "sub"]).code == 0)
            #expect(env.run(["mv", "sub/u", ""]).out == "moved /nav/sub/u -> /nav/u\n")
        }
    }

    @Test func workingDirectoriesArePerSession() {
        withCLI { env in
            env.apply("nav.toml", navModule)
            func cwd(_ method: String, session: String?, body: String? = nil) -> RawReply? {
                var headers = ["Authorization": "Bearer \(env.secret)"]
                if let session { headers["X-Pxt-Session"] = session }
                return rawHTTP(port: env.port, method: method, path: "/api/cwd", headers: headers, body: body)
            }
            let set = cwd("POST", session: "111:1", body: "{\"uri\": \"nav\"}")
            #expect(set?.status == 200)
            #expect(set?.object["uri"] as? String == "nav")
            #expect(cwd("GET", session: "111:1")?.object["uri"] as? String == "nav")
            #expect(isJSONNull(cwd("GET", session: "222:2")?.object["uri"]), "another session saw the working directory")
            // This terminal (the test process) is a session of its own too.
            #expect(env.run(["pwd"]).out == "(no working directory)\n")
            let noSession = cwd("POST", session: nil, body: "{\"uri\": \"nav\"}")
            #expect(noSession?.status == 422)
            #expect(noSession?.object["detail"] as? String == "no session; cannot set a working directory")
            let missing = cwd("POST", session: "111:1", body: "{\"uri\": \"nope\"}")
            #expect([400, 404, 422].contains(missing?.status ?? 0))
            #expect(cwd("GET", session: "111:1")?.object["uri"] as? String == "nav")
        }
    }

    // MARK: path shapes

    @Test func pathShapeErrorsExit2() {
        withCLI { env in
            let cases: [([String], String)] = [
                (["ls", "x/"], "pxt: pxt paths must not end with '/'; got 'x/'"),
                (["rows", "a//b"], "pxt: pxt paths must not contain empty components ('//'); got 'a//b'"),
                (["count", "a.b"], "pxt: pxt paths use '/' as the separator; got 'a.b'"),
                (["describe", "dir/t.x"], "pxt: pxt paths use '/' as the separator; got 'dir/t.x'"),
                (["history", "x/"], "must not end with '/'"),
                (["get", "a//b", "1"], "empty components"),
                (["errors", "a.b"], "separator"),
                (["cd", "x/"], "must not end with '/'"),
                (["ls", "a\nb"], "pxt paths must not contain control characters; got 'a\\nb'"),
                (["idxs", "a//b"], "empty components"),
            ]
            for (args, message) in cases {
                let r = env.run(args)
                #expect(r.code == 2, "\(args): \(r.transcript)")
                #expect(r.err.contains(message), "\(args): \(r.err)")
            }
            // None of them needed the daemon.
            #expect(env.run(["daemon", "status"]).code == 1)
        }
    }

    @Test func daemonRejectsControlCharacters() {
        withCLI { env in
            #expect(env.run(["health"]).code == 0)
            for encoded in ["%0A", "%0D", "%00", "%7F", "%01"] {
                let reply = env.api("GET", "/api/tables/count?path=a\(encoded)b")
                #expect(reply?.status == 422, "\(encoded): \(reply?.body ?? "no answer")")
                #expect((reply?.object["detail"] as? String)?.contains("control characters") == true, "\(encoded)")
            }
        }
    }

    // MARK: shell

    @Test func shellRunsCommandsAndSurvivesErrors() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["shell"], stdin: "ls\nbogus\n\ncount demo/films\nexit\nls demo\n")
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out.hasPrefix("pxt> path  kind\ndemo  dir\npxt> "), "\(r.out)")
            #expect(r.err.contains("pxt: unknown command: bogus"))
            // The error did not end the session: count still ran.
            #expect(r.out.contains("pxt> 3\n"))
            // Nothing after `exit` ran.
            #expect(!r.out.contains("demo/films  table"))
            #expect(r.out.hasSuffix("pxt> "))
        }
    }

    @Test func shellPromptShowsTheWorkingDirectory() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["shell"], stdin: "cd demo\nls\npwd\ncd\nquit\n")
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out.contains("pxt> working directory: /demo\npxt /demo> path        kind\ndemo/films  table\npxt /demo> /demo\npxt /demo> working directory cleared\npxt> "), "\(r.out)")
        }
    }

    @Test func shellEndsAtEndOfInput() {
        withCLI { env in
            let r = env.run(["shell"], stdin: "pwd\n")
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out == "pxt> (no working directory)\npxt> \n")
            let empty = env.run(["shell"], stdin: "")
            #expect(empty.code == 0)
            #expect(empty.out == "pxt> \n")
        }
    }

    @Test func shellHelpNestedShellAndParseErrors() {
        withCLI { env in
            let r = env.run(["shell"], stdin: "help\nshell\nls 'unclosed\n?\nexit\n")
            #expect(r.code == 0, "\(r.transcript)")
            let helpLines = r.out.components(separatedBy: "\n").map { $0.hasPrefix("pxt> ") ? String($0.dropFirst(5)) : $0 }
            for command in ["ls", "rows", "drop", "daemon", "health", "cd"] {
                #expect(helpLines.contains { $0.hasPrefix(command + " ") }, "help does not list \(command)")
            }
            #expect(!helpLines.contains { $0.hasPrefix("shell ") }, "help lists shell")
            #expect(helpLines.contains { $0.hasPrefix("exit ") && $0.hasSuffix("leave the shell") })
            #expect(r.err.contains("pxt: already in shell"))
            #expect(r.err.contains("pxt: parse error: "))
            // `?` is help too: the list appears twice.
            #expect(helpLines.filter { $0.hasSuffix("leave the shell") }.count == 2)
        }
    }

    @Test func shellCommandsTakeTheirUsualFlags() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["shell"], stdin: "count demo/films --json\nrows demo/films -n 1 --cols id\ndrop demo/films\nrows\nexit\n")
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out.contains("\"count\": 3"))
            #expect(r.out.contains("id\n1\n"))
            // A refused confirmation and a usage error are reported and the session goes on.
            #expect(r.err.contains("--force"))
            #expect(r.err.contains("usage: pxt rows"))
            #expect(env.run(["count", "demo/films"]).out == "3\n")
        }
    }
}
