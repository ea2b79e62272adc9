import Foundation
import Pixeltable

/// Pixeltable's documented configuration settings, their values and where each came from.
enum ConfigSettings {
    struct Setting {
        let section: String
        let key: String
        let type: String
        let description: String
        /// Settings such as `file_cache_size_g` can only be set in the config file.
        var fileOnly = false

        var envName: String { "\(section)_\(key)".uppercased() }
        var isSensitive: Bool {
            let k = key.lowercased()
            return ["key", "token", "secret", "password"].contains { k.hasSuffix($0) } || k == "otlp_headers"
        }
    }

    static let settings: [Setting] = [
        Setting(section: "pixeltable", key: "file_cache_size_g", type: "float", description: "Maximum size of the file cache, in GiB", fileOnly: true),
        Setting(section: "pixeltable", key: "file_cache_lease_s", type: "int", description: "How long a cached file is leased, in seconds", fileOnly: true),
        Setting(section: "pixeltable", key: "time_zone", type: "str", description: "Time zone for naive timestamps"),
        Setting(section: "pixeltable", key: "hide_warnings", type: "bool", description: "Suppress warnings"),
        Setting(section: "pixeltable", key: "verbosity", type: "int", description: "Console verbosity (0-2)"),
        Setting(section: "pixeltable", key: "api_key", type: "str", description: "API key for Pixeltable cloud"),
        Setting(section: "pixeltable", key: "input_media_dest", type: "str", description: "Default destination for uploaded media"),
        Setting(section: "pixeltable", key: "output_media_dest", type: "str", description: "Default destination for computed media"),
        Setting(section: "anthropic", key: "api_key", type: "str", description: "Anthropic API key"),
        Setting(section: "fireworks", key: "api_key", type: "str", description: "Fireworks API key"),
        Setting(section: "gemini", key: "api_key", type: "str", description: "Google Gemini API key"),
        Setting(section: "groq", key: "api_key", type: "str", description: "Groq API key"),
        Setting(section: "mistral", key: "api_key", type: "str", description: "Mistral API key"),
        Setting(section: "openai", key: "api_key", type: "str", description: "OpenAI API key"),
        Setting(section: "openai", key: "base_url", type: "str", description: "OpenAI-compatible API base URL"),
        Setting(section: "replicate", key: "api_token", type: "str", description: "Replicate API token"),
        Setting(section: "together", key: "api_key", type: "str", description: "Together AI API key"),
    ]

    /// The `/api/config` report; `fingerprint` is the daemon's (``EnvironmentAgreement``).
    static func report(home: HomeDirectory, fingerprint: [String: String] = [:], environment env: [String: String] = FastIO.environment) throws(PixeltableError) -> JSONValue {
        let file = ConfigFile.path(home: home, environment: env)
        let values = try ConfigFile.values(file)
        var entries: [JSONValue] = []
        var names: [String] = []
        for s in settings {
            var value: JSONValue = .null
            var source = "unset"
            if !s.fileOnly, let v = env[s.envName], !v.isEmpty {
                value = .string(v)
                source = "env"
            } else if let v = values[s.section]?[s.key] {
                value = v.json
                source = file
            }
            if s.isSensitive && source != "unset" { value = "<redacted>" }
            // A URL setting may carry a password (`https://user:pass@proxy/v1`).
            if case .string(let text) = value { value = .string(Redaction.url(text)) }
            if !s.fileOnly { names.append(s.envName) }
            entries.append([
                "section": .string(s.section), "key": .string(s.key), "value": value, "source": .string(source),
                "description": .string(s.description), "expected_type": .string(s.type),
            ])
        }
        let hashes = JSONObject(fingerprint.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })
        return ["config_file": .string(file), "entries": .array(entries), "env_fingerprint": .object(hashes), "env_var_names": .array(names.map { .string($0) })]
    }
}
