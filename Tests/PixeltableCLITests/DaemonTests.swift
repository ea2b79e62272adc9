import Foundation
import Testing

@Suite("The daemon: health, status, stop, restart, replacement, the secret, concurrency")
struct DaemonTests {
    @Test func healthReport() {
        withCLI { env in
            let r = env.run(["health"])
            #expect(r.code == 0, "\(r.transcript)")
            let h = r.object
            #expect(h["ok"] as? Bool == true)
            #expect(h["service"] as? String == "pxt")
            let pid = jsonInt(h["pid"]) ?? 0
            #expect(pid > 0)
            #expect(processIsRunning(Int32(pid)))
            let version = env.run(["--version"]).out.trimmingCharacters(in: .newlines)
            #expect("pxt " + (h["pxt_version"] as? String ?? "") == version)
            #expect(h["pixeltable_home"] as? String == env.home)
            #expect((h["in_flight"] as? [Any])?.isEmpty == true)
            #expect(h["started_at"] is String)
            #expect((h["pixeltable_env"] as? [String: String])?["PIXELTABLE_HOME"] == env.home)
            // Printed as json.dumps(indent=2).
            #expect(r.out.hasPrefix("{\n  \"ok\": true,\n"))
            // Bookkeeping files: the pidfile holds the responder's pid; the log exists.
            let pidFile = (try? String(contentsOfFile: env.home + "/pxt-daemon-\(env.port).pid", encoding: .utf8)) ?? ""
            #expect(pidFile.trimmingCharacters(in: .whitespacesAndNewlines) == String(pid))
            #expect(FileManager.default.fileExists(atPath: env.home + "/logs/pxt-daemon-\(env.port).log"))
        }
    }

    @Test func theDaemonInheritsNoDescriptorsFromItsClient() {
        withCLI { env in
            // The client runs with pipes on 0-2 and an extra inherited socket (Foundation's exit
            // watch); had the daemon kept either, `run` would wait for it to exit.
            guard let pid = env.daemonPID() else {
                Issue.record("no daemon")
                return
            }
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            #expect(!fds.isEmpty)
            let links = Dictionary(uniqueKeysWithValues: fds.map { ($0, (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) ?? "") })
            #expect(links["0"] == "/dev/null")
            #expect(links["1"] == env.home + "/logs/pxt-daemon-\(env.port).log")
            #expect(links["2"] == links["1"])
            #expect(!links.values.contains { $0.hasPrefix("pipe:") }, "\(links)")
        }
    }

    @Test func secondCommandReusesTheDaemon() {
        withCLI { env in
            let first = env.daemonPID()
            #expect(first != nil)
            #expect(env.run(["ls"]).code == 0)
            #expect(env.daemonPID() == first)
        }
    }

    @Test func daemonStatus() {
        withCLI { env in
            let none = env.run(["daemon", "status"])
            #expect(none.code == 1)
            #expect(none.err == "pxt: no daemon running\n")

            let pid = env.daemonPID()
            let text = env.run(["daemon", "status"])
            #expect(text.code == 0, "\(text.transcript)")
            let rows = text.lines.prefix { !$0.isEmpty }
            var values: [String: String] = [:]
            for row in rows {
                guard let gap = row.range(of: "  ") else { continue }
                values[String(row[..<gap.lowerBound])] = row[gap.upperBound...].trimmingCharacters(in: .whitespaces)
            }
            #expect(values["PID"] == pid.map { String($0) })
            #expect(values["Service"] == "pxt")
            #expect(values["Home"] == env.home)
            #expect(values["Started"] != nil && values["Version"] != nil && values["Config"] != nil)
            // Values start in one column.
            let starts = Set(rows.map { row -> Int in
                guard let gap = row.range(of: "  ") else { return -1 }
                let value = row[gap.lowerBound...].firstIndex { $0 != " " } ?? row.endIndex
                return row.distance(from: row.startIndex, to: value)
            })
            #expect(starts.count == 1, "misaligned:\n\(text.out)")
            #expect(text.out.contains("\n\nPIXELTABLE_* env vars at daemon startup:\n"))
            #expect(text.lines.contains("  PIXELTABLE_HOME=\(env.home)"))

            let json = env.run(["daemon", "status", "--json"])
            #expect(json.code == 0)
            #expect(json.object["ok"] as? Bool == true)
            #expect(json.object["service"] as? String == "pxt")
            #expect(jsonInt(json.object["pid"]).map { Int32($0) } == pid)
        }
    }

    @Test func stopThenStatusSaysNoDaemon() {
        withCLI { env in
            guard let pid = env.daemonPID() else {
                Issue.record("no daemon")
                return
            }
            let stop = env.run(["daemon", "stop"])
            #expect(stop.code == 0, "\(stop.transcript)")
            #expect(stop.out == "pxt: stopped daemon (PID \(pid))\n")
            #expect(waitUntil { !processIsRunning(pid) }, "the daemon is still running")
            #expect(!FileManager.default.fileExists(atPath: env.home + "/pxt-daemon-\(env.port).pid"))
            let status = env.run(["daemon", "status"])
            #expect(status.code == 1)
            #expect(status.err.contains("no daemon running"))
            let again = env.run(["daemon", "stop"])
            #expect(again.code == 1)
            #expect(again.err == "pxt: no daemon running\n")
        }
    }

    @Test func stopAndRestartRefuseWhileARequestIsInFlight() {
        withCLI { env in
            guard let pid = env.daemonPID() else {
                Issue.record("no daemon")
                return
            }
            // An upload that has sent its headers and part of its body is in flight.
            guard let upload = halfSentRequest(port: env.port, path: "/api/insert?path=demo/films", secret: env.secret) else {
                Issue.record("could not connect to the daemon")
                return
            }
            #expect(waitUntil(timeout: 30) { (env.run(["health"]).object["in_flight"] as? [Any])?.count == 1 })
            for command in [["daemon", "stop"], ["daemon", "restart"]] {
                let refused = env.run(command)
                #expect(refused.code == 1, "\(refused.transcript)")
                #expect(refused.err.hasPrefix("pxt: the daemon is serving 1 request(s): POST /api/insert ("), "\(refused.transcript)")
                #expect(refused.err.hasSuffix("Wait for it to finish, or use --force.\n"))
            }
            #expect(processIsRunning(pid))
            #expect(env.daemonPID() == pid)
            // The client giving up ends the request; then a plain stop works.
            close(upload)
            #expect(waitUntil(timeout: 30) { (env.run(["health"]).object["in_flight"] as? [Any])?.isEmpty == true })
            let stop = env.run(["daemon", "stop"])
            #expect(stop.code == 0, "\(stop.transcript)")
            #expect(waitUntil { !processIsRunning(pid) })
        }
    }

    @Test func forceStopsDespiteARequestInFlight() {
        withCLI { env in
            guard let pid = env.daemonPID(), let upload = halfSentRequest(port: env.port, path: "/api/insert?path=demo/films", secret: env.secret) else {
                Issue.record("no daemon")
                return
            }
            defer { close(upload) }
            #expect(waitUntil(timeout: 30) { (env.run(["health"]).object["in_flight"] as? [Any])?.count == 1 })
            let stop = env.run(["daemon", "stop", "-f"])
            #expect(stop.code == 0, "\(stop.transcript)")
            #expect(stop.out == "pxt: stopped daemon (PID \(pid))\n")
            #expect(waitUntil { !processIsRunning(pid) })
        }
    }

    @Test func startAfterStopRebindsThePortAtOnce() {
        withCLI { env in
            // Requests leave the daemon's side of their connections in TIME_WAIT; a new daemon
            // must still be able to bind the port right away.
            seedFilms(env)
            for _ in 0..<5 { #expect(env.run(["count", "demo/films"]).out == "3\n") }
            #expect(env.run(["daemon", "stop"]).code == 0)
            let start = env.run(["daemon", "start"])
            #expect(start.code == 0, "\(start.transcript)")
            let pid = env.daemonPID()
            #expect(start.out == "pxt daemon up at http://127.0.0.1:\(env.port) (PID \(pid.map { String($0) } ?? "?"))\n")
            #expect(env.run(["count", "demo/films"]).out == "3\n", "the catalog survived the restart")
            // start with a daemon running keeps it.
            #expect(env.run(["daemon", "start"]).out == start.out)
        }
    }

    @Test func restartReplacesTheDaemon() {
        withCLI { env in
            seedFilms(env)
            guard let old = env.daemonPID() else {
                Issue.record("no daemon")
                return
            }
            let r = env.run(["daemon", "restart"])
            #expect(r.code == 0, "\(r.transcript)")
            let new = env.daemonPID()
            #expect(new != nil && new != old)
            #expect(r.out == "pxt: stopped daemon (PID \(old))\npxt daemon up at http://127.0.0.1:\(env.port) (PID \(new.map { String($0) } ?? "?"))\n")
            #expect(!processIsRunning(old))
            #expect(env.run(["count", "demo/films"]).out == "3\n")
            // restart without a daemon just starts one.
            #expect(env.run(["daemon", "stop"]).code == 0)
            let cold = env.run(["daemon", "restart"])
            #expect(cold.code == 0, "\(cold.transcript)")
            #expect(cold.out.hasPrefix("pxt daemon up at "))
        }
    }

    @Test func aKilledDaemonIsReplacedByTheNextCommand() {
        withCLI { env in
            seedFilms(env)
            guard let pid = env.daemonPID() else {
                Issue.record("no daemon")
                return
            }
            kill(pid, SIGKILL)
            #expect(waitUntil { !processIsRunning(pid) })
            let count = env.run(["count", "demo/films"])
            #expect(count.code == 0, "\(count.transcript)")
            #expect(count.out == "3\n")
            let new = env.daemonPID()
            #expect(new != nil && new != pid)
        }
    }

    @Test func aChangedPixeltableVariableReplacesTheDaemon() {
        withCLI { env in
            guard let old = env.daemonPID() else {
                Issue.record("no daemon")
                return
            }
            env.extraEnv["PIXELTABLE_VAR_COLOR"] = "blue"
            let r = env.run(["health"])
            #expect(r.code == 0, "\(r.transcript)")
            let new = jsonInt(r.object["pid"]).map { Int32($0) }
            #expect(new != nil && new != old)
            #expect((r.object["pixeltable_env"] as? [String: String])?["PIXELTABLE_VAR_COLOR"] == "blue")
            #expect(waitUntil { !processIsRunning(old) })
            // The same environment keeps the new daemon.
            #expect(env.daemonPID() == new)
            // A secret-looking name is reported redacted.
            env.extraEnv["PIXELTABLE_SECRET_TOKEN"] = "hunter2"
            let redacted = env.run(["health"])
            let value = (redacted.object["pixeltable_env"] as? [String: String])?["PIXELTABLE_SECRET_TOKEN"] ?? ""
            #expect(value.hasPrefix("sha256:") && value.count == 7 + 16, "\(value)")
            #expect(!redacted.out.contains("hunter2"))
        }
    }

    @Test func requestsWithoutTheSecretAreRejected() {
        withCLI { env in
            #expect(env.run(["health"]).code == 0)
            let anonymous = rawHTTP(port: env.port, path: "/api/health")
            #expect(anonymous?.status == 401, "\(anonymous?.head ?? "no answer")")
            let wrong = rawHTTP(port: env.port, path: "/api/tables/count?path=x", headers: ["Authorization": "Bearer 0000"])
            #expect(wrong?.status == 401)
            let authorized = env.api("GET", "/api/health")
            #expect(authorized?.status == 200)
            #expect(authorized?.object["service"] as? String == "pxt")
            // Security headers on every answer.
            let head = authorized?.head.lowercased() ?? ""
            #expect(head.contains("content-type: application/json"))
            #expect(head.contains("cache-control: no-store"))
            #expect(head.contains("x-content-type-options: nosniff"))
            #expect(head.contains("x-frame-options: deny"))
            #expect(head.contains("referrer-policy: no-referrer"))
            // The secret file is readable by its owner only.
            let attributes = try? FileManager.default.attributesOfItem(atPath: env.home + "/pxt-daemon.secret")
            #expect((attributes?[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func unknownRoutesAndBadBodies() {
        withCLI { env in
            #expect(env.run(["health"]).code == 0)
            let unknown = env.api("GET", "/api/nope")
            #expect(unknown?.status == 404)
            #expect(unknown?.object["detail"] as? String == "not found")
            let noBody = env.api("POST", "/api/tables/drop", body: "")
            #expect(noBody?.status == 422)
            #expect(noBody?.object["detail"] as? String == "request body required")
            let badBool = env.api("GET", "/api/dirs?tree=maybe")
            #expect(badBool?.status == 422)
            #expect(badBool?.object["detail"] as? String == "'tree' must be a boolean; got 'maybe'")
        }
    }

    @Test func oversizedBodiesAreRefused() {
        withCLI { env in
            #expect(env.run(["health"]).code == 0)
            let reply = env.api("POST", "/api/tables/drop", body: String(repeating: "x", count: (1 << 20) + 1))
            #expect(reply?.status == 413, "\(reply?.head ?? "no answer")")
            #expect(reply?.object["detail"] as? String == "request body exceeds the 1048576-byte limit")
        }
    }

    @Test func aBadPortIsReported() {
        withCLI { env in
            env.extraEnv["PXT_PORT"] = "abc"
            let r = env.run(["ls"])
            #expect(r.code == 1)
            #expect(r.err == "pxt: PXT_PORT must be an integer port; got 'abc'\n")
        }
    }

    @Test func aSecondDaemonOnThePortDefersToTheFirst() {
        withCLI { env in
            guard let pid = env.daemonPID() else {
                Issue.record("no daemon")
                return
            }
            // The port is the single-instance lock: another daemon cannot bind it and leaves.
            let second = env.start(["daemon", "run"])
            let ended = waitUntil(timeout: 60) { !second.process.isRunning }
            if !ended { second.process.terminate() }
            let r = second.wait()
            #expect(ended, "a second daemon is serving the same port")
            #expect(r.code == 0, "\(r.transcript)")
            #expect(env.daemonPID() == pid)
            let pidFile = (try? String(contentsOfFile: env.home + "/pxt-daemon-\(env.port).pid", encoding: .utf8)) ?? ""
            #expect(pidFile.trimmingCharacters(in: .whitespacesAndNewlines) == String(pid), "the loser touched the pidfile")
        }
    }

    @Test func aForeignListenerOnThePortIsLeftAlone() {
        withCLI { env in
            // Something that is not a pxt daemon holds the port: it accepts and never answers.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(env.port).bigEndian
            inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
            let bound = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 16) == 0 else {
                Issue.record("could not listen on \(env.port)")
                return
            }
            let r = env.run(["ls"])
            #expect(r.code == 1, "\(r.transcript)")
            #expect(r.err.contains("not a pxt daemon"), "\(r.err)")
            let status = env.run(["daemon", "status"])
            #expect(status.code == 1)
        }
    }

    @Test func aDaemonOfAnotherHomeOnThePortIsReplaced() {
        withCLI { first in
            withCLI { second in
                second.extraEnv["PXT_PORT"] = String(first.port)
                seedFilms(first)
                guard let firstPID = first.daemonPID() else {
                    Issue.record("no daemon")
                    return
                }
                // The second home's client finds a daemon that rejects its secret: a pxt daemon
                // for another home, which it replaces with its own.
                let h = second.run(["health"])
                #expect(h.code == 0, "\(h.transcript)")
                #expect(h.object["pixeltable_home"] as? String == second.home)
                #expect(jsonInt(h.object["pid"]).map { Int32($0) } != firstPID)
                #expect(second.run(["ls"]).out.isEmpty, "the second home sees the first home's catalog")
                // And back: the first home's data is where it was.
                #expect(first.run(["count", "demo/films"]).out == "3\n")
                #expect(first.run(["health"]).object["pixeltable_home"] as? String == first.home)
            }
        }
    }

    @Test func dashboardPrintsATokenURL() {
        withCLI { env in
            let r = env.run(["dashboard"])
            #expect(r.code == 0, "\(r.transcript)")
            let url = r.out.trimmingCharacters(in: .newlines)
            #expect(url.hasPrefix("http://127.0.0.1:\(env.port)/?token="))
            let token = url.components(separatedBy: "?token=").last ?? ""
            #expect(token == env.secret)
            // The URL opens the dashboard.
            let page = rawHTTP(port: env.port, path: "/?token=\(token)")
            #expect(page?.status == 200)
            #expect(page?.head.lowercased().contains("content-type: text/html") == true)
            #expect(rawHTTP(port: env.port, path: "/")?.status == 401)
        }
    }

    @Test func concurrentInsertsAllLand() {
        withCLI { env in
            env.apply("notes.toml", notesModule)
            // Eight clients at once, each with its own ids.
            let runs = (0..<8).map { i in env.start(["insert", "notes"], stdin: noteRows((i * 100)..<(i * 100 + 25))) }
            let outcomes = runs.map { $0.wait() }
            for (i, r) in outcomes.enumerated() {
                #expect(r.code == 0, "insert \(i): \(r.transcript)")
                #expect(r.out.hasPrefix("inserted 25 rows into /notes"), "insert \(i): \(r.out)")
            }
            #expect(env.run(["count", "notes"]).out == "200\n")
            let ids = Set(env.run(["rows", "notes", "-n", "1000", "--cols", "id", "--json"]).objects.compactMap { jsonInt($0["id"]) })
            let expected = Set<Int>((0..<8).flatMap { (i: Int) -> Range<Int> in (i * 100)..<(i * 100 + 25) })
            #expect(ids == expected)
            #expect(env.run(["history", "notes"]).lines.count == 10, "one version per insert")
        }
    }

    @Test func concurrentFirstCommandsShareOneDaemon() {
        withCLI { env in
            // No daemon yet: every client races to start one; exactly one must win.
            let runs = (0..<6).map { _ in env.start(["health"]) }
            let pids = runs.map { $0.wait() }.map { r -> Int? in
                #expect(r.code == 0, "\(r.transcript)")
                return jsonInt(r.object["pid"])
            }
            #expect(Set(pids.compactMap { $0 }).count == 1, "\(pids)")
            #expect(env.daemonPID().map { Int($0) } == pids.first ?? nil)
        }
    }
}

/// Connects to 127.0.0.1:`port` and sends a POST's headers, announcing a 1000-byte body, and only
/// the first 10 bytes of it; returns the open socket (close it to abandon the request).
private func halfSentRequest(port: Int, path: String, secret: String) -> Int32? {
    guard let fd = connectLoopback(port: port) else { return nil }
    let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(secret)\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    let bytes = Array((head + "{\"id\": 1, ").utf8)
    guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
        close(fd)
        return nil
    }
    return fd
}
