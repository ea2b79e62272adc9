import Foundation
import Testing

/// `filmsModule` without the `rating` column (and with `per_year` no longer using it).
private let filmsWithoutRating = filmsModule
    .replacingOccurrences(of: "rating = \"Float\"\n", with: "")
    .replacingOccurrences(of: "rating / (year - 1979)", with: "year / 2")

@Suite("Module commands: schema, insert, query")
struct ModuleCommandTests {
    // MARK: schema

    @Test func diffThenUpdateThenInSync() {
        withCLI { env in
            let file = env.write("demo.toml", filmsModule)
            let diff = env.run(["schema", "diff", file])
            #expect(diff.code == 2, "changes pending: \(diff.transcript)")
            #expect(diff.out.contains("+ table demo/films"))
            #expect(diff.out.contains("+ computed column title_upper (title.upper())"))
            #expect(env.run(["ls"]).out.isEmpty, "diff changed the catalog")

            let update = env.run(["schema", "update", file])
            #expect(update.code == 0, "\(update.transcript)")
            #expect(update.out.contains("+ table demo/films"))
            #expect(env.run(["ls", "demo"]).lines == ["path        kind", "demo/films  table"])

            let inSync = env.run(["schema", "diff", file])
            #expect(inSync.code == 0, "\(inSync.transcript)")
            #expect(inSync.out.contains("In agreement"))
            // A second update is a no-op: no new version.
            let again = env.run(["schema", "update", file])
            #expect(again.code == 0)
            #expect(again.out.contains("In agreement"))
            #expect(env.run(["history", "demo/films"]).lines.count == 3)
            // A relative file name is resolved against the working directory.
            #expect(env.run(["schema", "diff", "demo.toml"]).code == 0)
        }
    }

    @Test func dryRunUpdateReportsWithoutApplying() {
        withCLI { env in
            let file = env.write("demo.toml", filmsModule)
            let r = env.run(["schema", "update", file, "-n"])
            #expect(r.code == 2, "\(r.transcript)")
            #expect(r.out.contains("+ table demo/films"))
            #expect(env.run(["ls"]).out.isEmpty)
        }
    }

    @Test func schemaJSONPlan() {
        withCLI { env in
            let file = env.write("demo.toml", filmsModule)
            let diff = env.run(["schema", "diff", file, "--json"])
            #expect(diff.code == 2)
            let plan = diff.object
            #expect(Set(plan.keys) == ["schema_file", "catalog_dir", "in_agreement", "tables", "extras", "summary"])
            #expect(plan["schema_file"] as? String == file)
            #expect(plan["in_agreement"] as? Bool == false)
            #expect(!((plan["tables"] as? [Any]) ?? []).isEmpty)
            #expect(env.run(["schema", "update", file, "--json"]).code == 0)
            let after = env.run(["schema", "diff", file, "--json"])
            #expect(after.code == 0)
            #expect(after.object["in_agreement"] as? Bool == true)
        }
    }

    @Test func exampleParses() {
        withCLI { env in
            let example = env.run(["schema", "example"])
            #expect(example.code == 0)
            #expect(example.out.contains("[[table]]"))
            let file = env.write("example.toml", example.out)
            let diff = env.run(["schema", "diff", file])
            #expect(diff.code == 2, "the example does not parse: \(diff.transcript)")
            let update = env.run(["schema", "update", file])
            #expect(update.code == 0, "\(update.transcript)")
            #expect(env.run(["schema", "diff", file]).code == 0)
        }
    }

    @Test func destructiveChangesAreRefused() {
        withCLI { env in
            seedFilms(env)
            let file = env.write("shrunk.toml", filmsWithoutRating)
            let diff = env.run(["schema", "diff", file])
            #expect(diff.code == 2)
            #expect(diff.out.contains("- column rating"))
            #expect(diff.out.contains("destructive"))

            let refused = env.run(["schema", "update", file])
            #expect(refused.code == 3, "\(refused.transcript)")
            #expect(refused.err.contains("--allow-destructive"))
            let noForce = env.run(["schema", "update", file, "--allow-destructive"])
            #expect(noForce.code == 3, "\(noForce.transcript)")
            #expect(noForce.err.contains("--force"))
            // Nothing changed.
            #expect(env.run(["rows", "demo/films", "--cols", "rating", "-n", "1"]).code == 0)
            #expect(env.run(["history", "demo/films"]).lines.count == 4)

            let applied = env.run(["schema", "update", file, "--allow-destructive", "-f"])
            #expect(applied.code == 0, "\(applied.transcript)")
            let rating = env.run(["rows", "demo/films", "--cols", "rating"])
            #expect(rating.code == 1)
            #expect(rating.err.contains("unknown columns: rating"))
            #expect(env.run(["schema", "diff", file]).code == 0)
            #expect(env.run(["count", "demo/films"]).out == "3\n", "rows were kept")
        }
    }

    @Test func destructiveChangesAskOnATerminal() {
        withCLI { env in
            seedFilms(env)
            let file = env.write("shrunk.toml", filmsWithoutRating)
            let no = env.runWithTTY(["schema", "update", file, "--allow-destructive"], input: "n\n")
            #expect(no.code == 3, "\(no.transcript)")
            #expect(no.err.contains("[y/N] "))
            #expect(no.err.hasSuffix("aborted\n"))
            #expect(env.run(["schema", "diff", file]).code == 2, "the refused update applied")
            let yes = env.runWithTTY(["schema", "update", file, "--allow-destructive"], input: "y\n")
            #expect(yes.code == 0, "\(yes.transcript)")
            #expect(env.run(["schema", "diff", file]).code == 0)
        }
    }

    @Test func expressionTypoNamesFileLineAndColumn() {
        withCLI { env in
            let typo = filmsModule.replacingOccurrences(of: "title.upper()", with: "titel.upper()")
            let file = env.write("typo.toml", typo)
            // The line of the typo in the file, counted from 1.
            let line = (typo.components(separatedBy: "\n").firstIndex { $0.contains("titel.upper()") } ?? -1) + 1
            for action in ["diff", "update"] {
                let r = env.run(["schema", action, file])
                #expect(r.code == 1, "\(action): \(r.transcript)")
                #expect(r.err.contains("\(file):\(line):"), "\(action): \(r.err)")
                let afterLine = r.err.components(separatedBy: "\(file):\(line):").last ?? ""
                #expect(Int(afterLine.prefix { $0.isNumber }) != nil, "no column in \(r.err)")
                #expect(r.err.contains("titel"))
            }
            #expect(env.run(["ls"]).out.isEmpty, "a failed update changed the catalog")
        }
    }

    @Test func queryTypoFailsTheUpdate() {
        withCLI { env in
            let typo = filmsModule.replacingOccurrences(of: "where = \"year == :year\"", with: "where = \"yeer == :year\"")
            let file = env.write("typo.toml", typo)
            let r = env.run(["schema", "update", file])
            #expect(r.code == 1, "\(r.transcript)")
            #expect(r.err.contains("\(file):"))
            #expect(r.err.contains("yeer"))
            #expect(env.run(["ls"]).out.isEmpty)
        }
    }

    @Test func schemaErrors() {
        withCLI { env in
            let missing = env.run(["schema", "diff", "nope.toml"])
            #expect(missing.code == 1)
            #expect(missing.err.contains("nope.toml"))
            let badKey = env.run(["schema", "diff", env.write("bad.toml", "bogus = 1\n")])
            #expect(badKey.code == 1)
            #expect(badKey.err.contains("bad.toml:1"), "\(badKey.err)")
            #expect(badKey.err.contains("bogus"))
            let action = env.run(["schema", "frob", "x.toml"])
            #expect(action.code == 2)
            #expect(action.err.contains("invalid choice: 'frob'"))
            let noFile = env.run(["schema", "diff"])
            #expect(noFile.code == 2)
            #expect(noFile.err.contains("usage: pxt schema"))
        }
    }

    // MARK: insert

    @Test func insertJSONLines() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            let file = env.write("rows.jsonl", noteRows(1...3))
            let r = env.run(["insert", "notes", file])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out == "inserted 3 rows into /notes (version 1)\n")
            let stdin = env.run(["insert", "notes", "-"], stdin: noteRows([4]))
            #expect(stdin.out == "inserted 1 row into /notes (version 2)\n")
            #expect(env.run(["count", "notes"]).out == "4\n")
        }
    }

    @Test func insertJSONArray() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            let file = env.write("rows.json", "[{\"id\": 1, \"note\": \"a\"}, {\"id\": 2}]")
            let r = env.run(["insert", "notes", file, "--json"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.object["path"] as? String == "notes")
            #expect(jsonInt(r.object["rows"]) == 2)
            #expect(jsonInt(r.object["errors"]) == 0)
            #expect(jsonInt(r.object["version"]) == 1)
            #expect(env.run(["get", "notes", "2"]).lines == ["id\t2", "note\t"])
        }
    }

    @Test func insertCSV() {
        withCLI { env in
            seedFilms(env)
            let file = env.write("more.csv", "id,title,year,rating\n20,C,2001,2.5\n21,\"D, the film\",,\n")
            let r = env.run(["insert", "demo/films", file])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.out.hasPrefix("inserted 2 rows into /demo/films"))
            #expect(env.run(["get", "demo/films", "21", "--cols", "title,year"]).lines == ["title\tD, the film", "year\t"])
            #expect(env.run(["get", "demo/films", "20", "--cols", "rating,title_upper"]).lines == ["rating\t2.5", "title_upper\tC"])
            let piped = env.run(["insert", "demo/films", "-", "--format", "csv"], stdin: "id,title\n22,E\n")
            #expect(piped.code == 0, "\(piped.transcript)")
            #expect(env.run(["count", "demo/films"]).out == "6\n")
        }
    }

    @Test func insertReportsComputedErrors() {
        withCLI { env in
            seedFilms(env)
            let r = env.run(["insert", "demo/films"], stdin: "{\"id\": 9, \"title\": \"Zero\", \"year\": 1979, \"rating\": 1.0}\n")
            #expect(r.code == 0)
            #expect(r.out.contains("1 computed cell stored an error (see pxt errors)"), "\(r.out)")
            #expect(env.run(["errors", "demo/films"]).lines.count == 2)
        }
    }

    @Test func aBadRowNamesItsLineAndColumnAndStoresNothing() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            let jsonl = env.run(["insert", "notes"], stdin: "{\"id\": 1, \"note\": \"ok\"}\n{\"id\": \"x\", \"note\": \"bad\"}\n")
            #expect(jsonl.code == 1, "\(jsonl.transcript)")
            #expect(jsonl.err.contains("line 2"), "\(jsonl.err)")
            #expect(jsonl.err.contains("'id'"))
            let csv = env.run(["insert", "notes", env.write("bad.csv", "id,note\n1,ok\nnotanint,bad\n")])
            #expect(csv.code == 1, "\(csv.transcript)")
            #expect(csv.err.contains("line 3"), "the header is line 1: \(csv.err)")
            #expect(csv.err.contains("'id'"))
            let unknown = env.run(["insert", "notes"], stdin: "{\"id\": 1, \"nope\": 1}\n")
            #expect(unknown.code == 1)
            #expect(unknown.err.contains("line 1"))
            #expect(unknown.err.contains("nope"))
            let broken = env.run(["insert", "notes"], stdin: "{\"id\": 1\n")
            #expect(broken.code == 1)
            #expect(broken.err.contains("line 1"))
            // All or nothing: no row of any failed batch was stored, and no version was made.
            #expect(env.run(["count", "notes"]).out == "0\n")
            #expect(env.run(["history", "notes"]).lines.count == 2)
        }
    }

    @Test func insertDuplicateKeyAndMissingRequiredColumn() {
        withCLI { env in
            seedFilms(env)
            let dup = env.run(["insert", "demo/films"], stdin: "{\"id\": 50, \"title\": \"new\"}\n{\"id\": 1, \"title\": \"again\"}\n")
            #expect(dup.code == 1)
            #expect(dup.err.contains("line 2"), "\(dup.err)")
            let required = env.run(["insert", "demo/films"], stdin: "{\"id\": 51}\n")
            #expect(required.code == 1)
            #expect(required.err.contains("'title'"), "\(required.err)")
            #expect(env.run(["count", "demo/films"]).out == "3\n")
        }
    }

    @Test func insertErrors() {
        withCLI { env in
            let missingTable = env.run(["insert", "nope"], stdin: "{\"id\": 1}\n")
            #expect(missingTable.code == 1)
            #expect(missingTable.err.contains("does not exist"))
            let missingFile = env.run(["insert", "nope", "no-such-file.jsonl"])
            #expect(missingFile.code == 1)
            #expect(missingFile.err.contains("no-such-file.jsonl"))
            let badFormat = env.run(["insert", "t", "-", "--format", "xml"])
            #expect(badFormat.code == 2)
            #expect(badFormat.err.contains("invalid choice: 'xml'"))
        }
    }

    // MARK: query

    @Test func namedQueryWithArguments() {
        withCLI { env in
            seedFilms(env)
            env.write("myapp/queries.toml", filmsModule)
            let r = env.run(["query", "myapp.queries.by_year", "--arg", "year=1982"])
            #expect(r.code == 0, "\(r.transcript)")
            #expect(r.lines == ["id\ttitle\tshout", "3\tBlade Runner\tBLADE RUNNER"])
            let colon = env.run(["query", "myapp.queries:by_year", "--arg", "year=1985", "--json"])
            #expect(colon.code == 0, "\(colon.transcript)")
            let rows = colon.objects
            #expect(rows.count == 1)
            #expect(jsonInt(rows.first?["id"]) == 2)
            #expect(rows.first?["shout"] as? String == "BRAZIL")
            // A default can be overridden; several --arg accumulate.
            #expect(env.run(["insert", "demo/films"], stdin: "{\"id\": 4, \"title\": \"Dune\", \"year\": 1984}\n{\"id\": 5, \"title\": \"Ran\", \"year\": 1985}\n").code == 0)
            let limited = env.run(["query", "myapp.queries.by_year", "--arg", "year=1985", "--arg", "k=1", "--json"])
            #expect(limited.objects.map { jsonInt($0["id"]) } == [2])
            let retrieval = env.run(["query", "myapp.queries.lookup", "--arg", "id=5", "--json"])
            #expect(retrieval.code == 0, "\(retrieval.transcript)")
            #expect(retrieval.objects.first?["title"] as? String == "Ran")
        }
    }

    @Test func namedQueryErrors() {
        withCLI { env in
            seedFilms(env)
            env.write("myapp/queries.toml", filmsModule)
            let missingArg = env.run(["query", "myapp.queries.by_year"])
            #expect(missingArg.code == 1)
            #expect(missingArg.err.contains("missing required parameter 'year'"), "\(missingArg.err)")
            let unknownArg = env.run(["query", "myapp.queries.by_year", "--arg", "year=1982", "--arg", "zz=1"])
            #expect(unknownArg.code == 1)
            #expect(unknownArg.err.contains("unknown parameter 'zz'"), "\(unknownArg.err)")
            let badType = env.run(["query", "myapp.queries.by_year", "--arg", "year=abc"])
            #expect(badType.code == 1)
            #expect(badType.err.contains("'year'"))
            let noQuery = env.run(["query", "myapp.queries.nope"])
            #expect(noQuery.code == 1)
            #expect(noQuery.err.contains("no query 'nope'"), "\(noQuery.err)")
            let noModule = env.run(["query", "nomod.q"])
            #expect(noModule.code == 1)
            #expect(noModule.err.contains("nomod"))
            let malformed = env.run(["query", "myapp.queries.by_year", "--arg", "year"])
            #expect(malformed.code == 2)
            #expect(malformed.err.contains("expected K=V"))
        }
    }
}
