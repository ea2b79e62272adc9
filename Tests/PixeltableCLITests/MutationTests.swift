import Foundation
import Synchronization
import Testing

/// A table with a dependent view.
private let cascadeModule = """
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

/// `notes` at version 3: created, then three inserts of two rows each.
private func seedNotes(_ env: CLIEnv) {
    env.apply("notes.toml", notesModule)
    for batch in 0..<3 {
        let r = env.run(["insert", "notes"], stdin: noteRows((batch * 2)..<(batch * 2 + 2)))
        #expect(r.code == 0, "insert: \(r.transcript)")
    }
}

@Suite("Mutation commands: drop, rm, rename, mv, revert")
struct MutationTests {
    // MARK: drop

    @Test func dropDryRun() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["drop", "demo/films", "-n"])
            #expect(r.code == 0)
            #expect(r.out == "would drop demo/films (if it is a table or view)\n")
            let cascade = env.run(["drop", "demo/films", "--dry-run", "--cascade"])
            #expect(cascade.out == "would drop demo/films (if it is a table or view) (cascade: dependent views also dropped)\n")
            let json = env.run(["drop", "demo/films", "-n", "--json"]).object
            #expect(json["path"] as? String == "demo/films")
            #expect(json["dry_run"] as? Bool == true)
            // The dry run neither contacts the daemon nor validates the path.
            #expect(env.run(["drop", "no/such", "-n"]).out == "would drop no/such (if it is a table or view)\n")
            #expect(env.run(["count", "demo/films"]).out == "3\n", "the dry run dropped the table")
        }
    }

    @Test func dropRefusesWithoutForceAndATerminal() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["drop", "demo/films"], stdin: "y\n")
            #expect(r.code == 2, "\(r.transcript)")
            #expect(r.err.contains("--force"))
            #expect(r.err.contains("refusing to proceed without --force/-f (no TTY for confirmation): drop table demo/films?"))
            #expect(r.out.isEmpty)
            #expect(env.run(["count", "demo/films"]).out == "3\n")
        }
    }

    @Test func dropTable() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["drop", "demo/films", "-f"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out == "dropped /demo/films\n")
            #expect(env.run(["ls", "demo"]).out.isEmpty)
            #expect(env.run(["count", "demo/films"]).code == 1)

            seedFilms(env)
            let json = env.run(["drop", "demo/films", "--force", "--json"])
            #expect(json.code == 0)
            #expect(json.object["path"] as? String == "demo/films")
            #expect(json.object["dropped"] as? Bool == true)
        }
    }

    @Test func dropErrors() {
        withCLI { env in
            seedFilms(env)
            let dir = env.run(["drop", "demo", "-f"])
            #expect(dir.code == 1)
            #expect(dir.err.contains("pxt rm"), "\(dir.err)")
            let missing = env.run(["drop", "demo/nope", "-f"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
            let shape = env.run(["drop", "demo/", "-f"])
            #expect(shape.code == 2)
            #expect(shape.err.contains("must not end with '/'"))
        }
    }

    @Test func dropCascade() {
        withCLI { env in
            env.apply("views.toml", cascadeModule)
            let refused = env.run(["drop", "vd/base", "-f"])
            #expect(refused.code == 1)
            #expect(refused.err.contains("vd/v"), "\(refused.err)")
            #expect(env.run(["ls", "vd"]).lines.count == 3)
            let r = env.run(["drop", "vd/base", "--cascade", "-f"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out == "dropped /vd/base\n")
            #expect(env.run(["ls", "vd"]).out.isEmpty, "the dependent view was dropped too")
        }
    }

    // MARK: rm

    @Test func rmDryRun() {
        withCLI { env in
            seedFilms(env)
            #expect(env.run(["rm", "demo", "-n"]).out == "would remove demo (if it is a directory)\n")
            #expect(env.run(["rm", "demo", "-n", "-r"]).out == "would remove demo (if it is a directory) (recursive: contained tables/subdirs also removed)\n")
            let json = env.run(["rm", "demo", "--dry-run", "--recursive", "--json"]).object
            #expect(json["path"] as? String == "demo")
            #expect(json["dry_run"] as? Bool == true)
            #expect(env.run(["ls"]).out.contains("demo"))
        }
    }

    @Test func rmRefusesWithoutForce() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["rm", "demo", "-r"])
            #expect(r.code == 2)
            #expect(r.err.contains("--force"))
            #expect(r.err.contains("remove directory demo?"))
            #expect(env.run(["count", "demo/films"]).out == "3\n")
        }
    }

    @Test func rmDirectory() {
        withCLI { env in
            seedFilms(env)
            env.apply("empty.toml", "[[dir]]\npath = \"empty\"\n")
            let empty = env.run(["rm", "empty", "-f"])
            #expect(empty.code == 0, "\(empty.transcript)")
            #expect(empty.out == "removed /empty\n")

            let notEmpty = env.run(["rm", "demo", "-f"])
            #expect(notEmpty.code == 1)
            #expect(notEmpty.err.contains("not empty"), "\(notEmpty.err)")
            #expect(env.run(["count", "demo/films"]).out == "3\n")

            let recursive = env.run(["rm", "demo", "-r", "-f"])
            #expect(recursive.code == 0, "\(recursive.transcript)")
            #expect(recursive.out == "removed /demo\n")
            #expect(env.run(["ls"]).out.isEmpty)
        }
    }

    @Test func rmJSONAndErrors() {
        withCLI { env in
            seedFilms(env)
            let table = env.run(["rm", "demo/films", "-f"])
            #expect(table.code == 1)
            #expect(table.err.contains("pxt drop"), "\(table.err)")
            let missing = env.run(["rm", "nope", "-f"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
            let json = env.run(["rm", "demo", "-r", "-f", "--json"])
            #expect(json.code == 0)
            #expect(json.object["path"] as? String == "demo")
            #expect(json.object["dropped"] as? Bool == true)
        }
    }

    // MARK: rename

    @Test func renameTable() {
        withCLI { env in
            seedFilms(env)
            let dry = env.run(["rename", "demo/films", "movies", "-n"])
            #expect(dry.code == 0, "\(dry.transcript)")
            #expect(dry.out == "would rename /demo/films -> /demo/movies\n")
            #expect(env.run(["ls", "demo"]).lines.last == "demo/films  table")

            let r = env.run(["rename", "demo/films", "movies"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out == "renamed /demo/films -> /demo/movies\n")
            #expect(env.run(["ls", "demo"]).lines.last == "demo/movies  table")
            #expect(env.run(["count", "demo/movies"]).out == "3\n")

            let json = env.run(["rename", "demo/movies", "films", "--json"]).object
            #expect(json["path"] as? String == "demo/movies")
            #expect(json["new_path"] as? String == "demo/films")

            // A dry run fails exactly when the real run would (issue #12): a bad name, a taken one.
            let other = env.write("other.toml", "[[table]]\npath = \"demo/other\"\n[table.columns]\nx = \"Int\"\n")
            #expect(env.run(["schema", "update", other]).code == 0)
            for name in ["a b", "other"] {
                let real = env.run(["rename", "demo/films", name])
                let dryRun = env.run(["rename", "demo/films", name, "-n"])
                #expect(real.code != 0, "\(name): \(real.transcript)")
                #expect(dryRun.code == real.code, "\(name): \(dryRun.transcript)")
                #expect(dryRun.err == real.err, "\(name): \(dryRun.transcript)")
                #expect(!dryRun.out.contains("would rename"), "\(name): \(dryRun.transcript)")
            }
        }
    }

    @Test func renameRejectsAPath() {
        withCLI { env in
            for name in ["a/b", "a.b"] {
                let r = env.run(["rename", "demo/films", name])
                #expect(r.code == 2, "\(name): \(r.transcript)")
                #expect(r.err.contains("new_name must be a name, not a path (no \"/\" or \".\"); got '\(name)'"))
            }
            seedFilms(env)
            let missing = env.run(["rename", "demo/nope", "x"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
        }
    }

    // MARK: mv

    @Test func moveTable() {
        withCLI { env in
            seedFilms(env)
            env.apply("other.toml", "[[dir]]\npath = \"other\"\n")
            let dry = env.run(["mv", "demo/films", "other", "-n"])
            #expect(dry.code == 0, "\(dry.transcript)")
            #expect(dry.out == "would move /demo/films -> /other/films\n")
            #expect(env.run(["count", "demo/films"]).out == "3\n")

            let r = env.run(["mv", "demo/films", "other"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out == "moved /demo/films -> /other/films\n")
            #expect(env.run(["count", "other/films"]).out == "3\n")

            // `/` is the root.
            let root = env.run(["mv", "other/films", "/", "--json"])
            #expect(root.code == 0, "\(root.transcript)")
            #expect(root.object["path"] as? String == "other/films")
            #expect(root.object["new_path"] as? String == "films")
            #expect(env.run(["ls"]).lines.contains("films  table"))

            // A trailing slash on the destination directory is dropped.
            #expect(env.run(["mv", "films", "demo/"]).out == "moved /films -> /demo/films\n")
        }
    }

    @Test func moveErrors() {
        withCLI { env in
            seedFilms(env)
            let missing = env.run(["mv", "demo/nope", "/"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
            let noDir = env.run(["mv", "demo/films", "nowhere"])
            #expect(noDir.code == 1, "\(noDir.transcript)")
            #expect(env.run(["count", "demo/films"]).out == "3\n")
        }
    }

    // MARK: revert

    @Test func revertDryRunAndRefusal() {
        withCLI { env in
            seedNotes(env)
            let dry = env.run(["revert", "notes", "-n"])
            #expect(dry.code == 0)
            #expect(dry.out == "would revert notes by 1 version(s)\n")
            #expect(env.run(["revert", "notes", "-n", "--steps", "2"]).out == "would revert notes by 2 version(s)\n")
            let refused = env.run(["revert", "notes"])
            #expect(refused.code == 2)
            #expect(refused.err.contains("--force"))
            #expect(refused.err.contains("revert notes by 1 version(s)? this is irreversible."))
            #expect(env.run(["count", "notes"]).out == "6\n")
            #expect(env.run(["history", "notes"]).lines.dropFirst().first?.hasPrefix("3\t") == true)
        }
    }

    @Test func revertUndoesVersions() {
        withCLI { env in
            seedNotes(env)
            let r = env.run(["revert", "notes", "-f"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out == "reverted notes: v3 -> v2\n")
            #expect(env.run(["count", "notes"]).out == "4\n")
            #expect(env.run(["history", "notes"]).lines.count == 4)

            let json = env.run(["revert", "notes", "--steps", "2", "-f", "--json"])
            #expect(json.code == 0, "\(json.transcript)")
            #expect(json.object["path"] as? String == "notes")
            #expect(jsonInt(json.object["from_version"]) == 2)
            #expect(jsonInt(json.object["to_version"]) == 0)
            #expect(env.run(["count", "notes"]).out == "0\n")
        }
    }

    /// `from_version` is the version the revert undid, read in its transaction, even while
    /// other writes land (issue #12, defect 10: it was read before, outside it).
    @Test func revertReportsTheVersionItUndidUnderConcurrentWrites() {
        withCLI { env in
            seedNotes(env)
            let done = Atomic<Bool>(false)
            let writer = Thread {
                var i = 100
                while !done.load(ordering: .relaxed) {
                    _ = env.api("POST", "/api/insert?path=notes", body: noteRows([i]))
                    i += 1
                }
            }
            writer.start()
            for _ in 0..<15 {
                guard let r = env.api("POST", "/api/tables/revert", body: "{\"path\": \"notes\", \"steps\": 1}"), r.status == 200 else { continue }
                let from = jsonInt(r.object["from_version"]) ?? -1
                let to = jsonInt(r.object["to_version"]) ?? -1
                #expect(from == to + 1, "reported v\(from) -> v\(to)")
            }
            done.store(true, ordering: .relaxed)
        }
    }

    @Test func revertErrors() {
        withCLI { env in
            seedNotes(env)
            let zero = env.run(["revert", "notes", "--steps", "0", "-f"])
            #expect(zero.code == 2)
            #expect(zero.err.contains("--steps must be >= 1"))
            let tooMany = env.run(["revert", "notes", "--steps", "999", "-f"])
            #expect(tooMany.code == 1)
            #expect(tooMany.err.contains("cannot revert 999 step(s): notes is at version 3"), "\(tooMany.err)")
            #expect(env.run(["count", "notes"]).out == "6\n")
            // The daemon refuses steps < 1 itself.
            let daemon = env.api("POST", "/api/tables/revert", body: "{\"path\": \"notes\", \"steps\": 0}")
            #expect(daemon?.status == 422)
            #expect(daemon?.object["detail"] as? String == "steps must be >= 1")
            let missing = env.run(["revert", "nope", "-f"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("does not exist"))
        }
    }

    // MARK: confirmation on a terminal

    @Test func aTerminalIsAskedAndYesProceeds() {
        withCLI { env in
            seedFilms(env)
            seedNotes(env)
            let drop = env.runWithTTY(["drop", "demo/films"], input: "y\n")
            #expect(drop.code == 0, "\(drop.transcript)")
            #expect(drop.err.contains("drop table demo/films? [y/N] "))
            #expect(drop.out == "dropped /demo/films\n")
            let revert = env.runWithTTY(["revert", "notes"], input: " YES \n")
            #expect(revert.code == 0, "\(revert.transcript)")
            #expect(revert.err.contains("revert notes by 1 version(s)? this is irreversible. [y/N] "))
            #expect(revert.out == "reverted notes: v3 -> v2\n")
            let rm = env.runWithTTY(["rm", "demo"], input: "yes\n")
            #expect(rm.code == 0, "\(rm.transcript)")
            #expect(rm.err.contains("remove directory demo? [y/N] "))
        }
    }

    @Test(arguments: ["n\n", "\n", "maybe\n", ""])
    func anythingButYesAborts(_ answer: String) {
        withCLI { env in
            seedFilms(env)
            let r = env.runWithTTY(["drop", "demo/films"], input: answer)
            #expect(r.code == 2, "\(answer.debugDescription): \(r.transcript)")
            #expect(r.err.hasSuffix("aborted\n"), "\(r.err)")
            #expect(r.out.isEmpty)
            #expect(env.run(["count", "demo/films"]).out == "3\n")
        }
    }

    @Test func forceSkipsThePromptOnATerminal() {
        withCLI { env in
            seedFilms(env)
            let r = env.runWithTTY(["drop", "demo/films", "-f"], input: "")
            #expect(r.code == 0, "\(r.transcript)")
            #expect(!r.err.contains("[y/N]"))
        }
    }
}
