import Foundation
import Testing

/// The ids stored in `notes`, read through the daemon.
private func storedIDs(_ env: CLIEnv) -> Set<Int> {
    let r = env.run(["rows", "notes", "-n", "1000", "--cols", "id", "--json"])
    #expect(r.code == 0, "rows: \(r.transcript)")
    return Set(r.objects.compactMap { jsonInt($0["id"]) })
}

@Suite("Durability: acknowledged inserts survive SIGKILL; concurrent writers lose nothing")
struct DurabilityTests {
    @Test func acknowledgedRowsSurviveSIGKILL() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            // More rows than we let it write: it is killed in the middle (at most 900 rows, so
            // that `rows -n 1000` sees them all).
            let stream = AckStream(env: env, path: "notes", start: 0, count: 900)
            #expect(stream.started)
            stream.readAcks(atLeast: 200)
            stream.kill9()
            let end = stream.finish()
            let acked = stream.acked
            if end.reason == .exit {
                // It finished before the signal arrived: then it must have written everything.
                #expect(end.code == 0 && acked.count == 900, "exit \(end.code): \(end.err)")
            }
            #expect(acked.count >= 200, "only \(acked.count) acks: \(end.err)")
            #expect(acked == Array(0..<acked.count), "acks out of order")

            // Every acknowledged row is stored; at most the one in flight is extra.
            let count = Int(env.run(["count", "notes"]).out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect(count >= acked.count, "\(acked.count) acknowledged, \(count) stored")
            #expect(count <= acked.count + 1, "\(acked.count) acknowledged, \(count) stored")
            let stored = storedIDs(env)
            #expect(Set(acked).isSubset(of: stored), "lost: \(Set(acked).subtracting(stored).sorted().prefix(20))")
            if let last = acked.last {
                #expect(env.run(["get", "notes", String(last)]).lines == ["id\t\(last)", "note\trow \(last)"])
            }
            // The table still takes writes after the crash.
            let more = env.run(["insert", "notes"], stdin: noteRows([500_000]))
            #expect(more.code == 0, "\(more.transcript)")
            #expect(env.run(["get", "notes", "500000", "--json"]).object["row"] is [String: Any])
        }
    }

    @Test func twoWritersAtOnceLoseNothing() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            let a = AckStream(env: env, path: "notes", start: 0, count: 150)
            let b = AckStream(env: env, path: "notes", start: 10_000, count: 150)
            // The daemon reads while both write.
            #expect(env.run(["count", "notes"]).code == 0)
            let endA = a.finish(), endB = b.finish()
            #expect(endA.code == 0 && endA.reason == .exit, "writer A: \(endA.err)")
            #expect(endB.code == 0 && endB.reason == .exit, "writer B: \(endB.err)")
            #expect(a.acked == Array(0..<150))
            #expect(b.acked == Array(10_000..<10_150))
            #expect(env.run(["count", "notes"]).out == "300\n")
            #expect(storedIDs(env) == Set(Array(0..<150) + Array(10_000..<10_150)))
        }
    }

    @Test func twoWritersKilledMidwayKeepEveryAcknowledgedRow() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            // At most 900 rows in all, so that `rows -n 1000` sees them all.
            let a = AckStream(env: env, path: "notes", start: 0, count: 450)
            let b = AckStream(env: env, path: "notes", start: 200_000, count: 450)
            a.readAcks(atLeast: 100)
            b.readAcks(atLeast: 100)
            a.kill9()
            b.kill9()
            a.finish()
            b.finish()
            let acked = Set(a.acked + b.acked)
            #expect(a.acked.count >= 100 && b.acked.count >= 100)
            let stored = storedIDs(env)
            #expect(acked.isSubset(of: stored), "lost: \(acked.subtracting(stored).sorted().prefix(20))")
            #expect(stored.count <= acked.count + 2)
            #expect(env.run(["count", "notes"]).out == "\(stored.count)\n")
        }
    }

    @Test func insertStreamIntoAMissingTableFails() {
        withCLI { env in
            let r = env.run(["_insert-stream", "nope", "0", "3"])
            #expect(r.code == 1)
            #expect(r.out.isEmpty)
            #expect(r.err.contains("does not exist"))
        }
    }
}
