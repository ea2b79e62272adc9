import Foundation
import Testing

/// Reference §3.2 and §5.7: a daemon keeps the settings it started with; a caller whose settings
/// differ, or a config file edited under the daemon, is refused with STALE_CONFIG until a restart,
/// and no secret is ever printed.
@Suite("Environment agreement between callers and the daemon (STALE_CONFIG)")
struct EnvironmentAgreementTests {
    /// Runs `args` with extra environment variables for this one command.
    private func run(_ env: CLIEnv, _ args: [String], with vars: [String: String]) -> Outcome {
        let saved = env.extraEnv
        defer { env.extraEnv = saved }
        for (k, v) in vars { env.extraEnv[k] = v }
        return env.run(args)
    }

    @Test func aCredentialTheDaemonLacksIsRefusedUntilRestart() {
        withCLI { env in
            seedFilms(env)
            let key = ["OPENAI_API_KEY": "sk-test-agreement-1"]
            let refused = run(env, ["count", "demo/films"], with: key)
            #expect(refused.code == 1, "\(refused.transcript)")
            #expect(
                refused.err == "pxt: 409 set in your environment but not in this daemon's: OPENAI_API_KEY.\nRun `pxt daemon restart` to serve with your environment.\n",
                "\(refused.transcript)")
            #expect(!refused.err.contains("sk-test"))
            // Finding out what is wrong still works, and says it.
            let config = run(env, ["config"], with: key)
            #expect(config.code == 0, "\(config.transcript)")
            let lines = config.out.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count > 3)
            #expect(lines.dropFirst().prefix(2) == ["  not in the daemon: OPENAI_API_KEY", "  run `pxt daemon restart` to serve with your environment"], "\(config.out)")
            #expect(!config.out.contains("sk-test"))
            for args in [["ls"], ["describe", "demo/films"], ["history", "demo/films"]] {
                let r = run(env, args, with: key)
                #expect(r.code == 0, "\(args): \(r.transcript)")
            }
            // A caller without the variable is served; a value the daemon has and the caller
            // lacks is not a disagreement.
            #expect(env.run(["count", "demo/films"]).out == "3\n")
            // After a restart with the variable, the caller is served.
            let restart = run(env, ["daemon", "restart"], with: key)
            #expect(restart.code == 0, "\(restart.transcript)")
            #expect(run(env, ["count", "demo/films"], with: key).out == "3\n")
            #expect(env.run(["count", "demo/films"]).out == "3\n")
            // The daemon now reports the key from the environment, redacted.
            let entries = (run(env, ["config", "--json"], with: key).object["entries"] as? [[String: Any]]) ?? []
            let entry = entries.first { $0["section"] as? String == "openai" && $0["key"] as? String == "api_key" }
            #expect(entry?["value"] as? String == "<redacted>")
            #expect(entry?["source"] as? String == "env")
        }
    }

    @Test func aRotatedKeyOrAnotherSettingIsRefusedAsDifferent() {
        withCLI { env in
            seedFilms(env)
            let first = ["OPENAI_API_KEY": "sk-one", "OPENAI_BASE_URL": "http://localhost:1/v1"]
            #expect(run(env, ["daemon", "restart"], with: first).code == 0)
            #expect(run(env, ["count", "demo/films"], with: first).out == "3\n")
            let rotated = run(env, ["count", "demo/films"], with: ["OPENAI_API_KEY": "sk-two", "OPENAI_BASE_URL": "http://localhost:2/v1"])
            #expect(rotated.code == 1)
            #expect(
                rotated.err == "pxt: 409 bound to a different value here: OPENAI_API_KEY, OPENAI_BASE_URL.\nRun `pxt daemon restart` to serve with your environment.\n",
                "\(rotated.transcript)")
            let config = run(env, ["config"], with: ["OPENAI_API_KEY": "sk-two"])
            #expect(config.out.contains("\n  set to a different value in the daemon: OPENAI_API_KEY\n  run `pxt daemon restart` to serve with your environment\n"), "\(config.out)")
            #expect(!config.out.contains("sk-one") && !config.out.contains("sk-two"))
            // Settings that can only come from the file are not compared.
            #expect(run(env, ["count", "demo/films"], with: first.merging(["PIXELTABLE_FILE_CACHE_SIZE_G": "3"]) { a, _ in a }).out == "3\n")
            let names = (run(env, ["config", "--json"], with: first).object["env_var_names"] as? [String]) ?? []
            #expect(names.contains("OPENAI_API_KEY"))
            #expect(!names.contains("PIXELTABLE_FILE_CACHE_SIZE_G"))
        }
    }

    @Test func editingTheConfigFileUnderTheDaemonIsRefusedUntilRestart() throws {
        try withCLI { env in
            let config = env.home + "/config.toml"
            try FileManager.default.createDirectory(atPath: env.home, withIntermediateDirectories: true)
            try "[pixeltable.database.secrets]\npxt_test_key = \"first\"\n\n[[service]]\nname = \"a\"\n".write(toFile: config, atomically: true, encoding: .utf8)
            seedFilms(env)
            #expect(env.run(["count", "demo/films"]).out == "3\n")
            // Editing a table that is not a setting (a service) changes nothing.
            try "[pixeltable.database.secrets]\npxt_test_key = \"first\"\n\n[[service]]\nname = \"b\"\n".write(toFile: config, atomically: true, encoding: .utf8)
            #expect(env.run(["count", "demo/films"]).out == "3\n")
            try "[pixeltable.database.secrets]\npxt_test_key = \"second\"\n".write(toFile: config, atomically: true, encoding: .utf8)
            let refused = env.run(["count", "demo/films"])
            #expect(refused.code == 1)
            #expect(
                refused.err == "pxt: 409 \(config) now has different values for: PIXELTABLE_SECRET_PXT_TEST_KEY.\nRun `pxt daemon restart` to serve with them.\n",
                "\(refused.transcript)")
            #expect(!refused.err.contains("second"))
            #expect(env.run(["ls"]).code == 0)
            // An unreadable file is an error naming it, for every request but health.
            try "[pixeltable\nbroken".write(toFile: config, atomically: true, encoding: .utf8)
            let broken = env.run(["ls"])
            #expect(broken.code == 1)
            #expect(broken.err == "pxt: 422 Could not read config file: \(config)\n", "\(broken.transcript)")
            #expect(env.run(["health"]).code == 0)
            // Fixed and restarted, the daemon serves again.
            try "[pixeltable.database.secrets]\npxt_test_key = \"second\"\n".write(toFile: config, atomically: true, encoding: .utf8)
            #expect(env.run(["daemon", "restart"]).code == 0)
            #expect(env.run(["count", "demo/films"]).out == "3\n")
        }
    }

    @Test func aConfigFileUnreadableFromTheStartIsReported() throws {
        try withCLI { env in
            try FileManager.default.createDirectory(atPath: env.home, withIntermediateDirectories: true)
            try "[pixeltable\nbroken".write(toFile: env.home + "/config.toml", atomically: true, encoding: .utf8)
            let r = env.run(["ls"])
            #expect(r.code == 1)
            #expect(r.err == "pxt: 422 Could not read config file: \(env.home)/config.toml\n", "\(r.transcript)")
            #expect(env.run(["health"]).code == 0)
        }
    }
}
