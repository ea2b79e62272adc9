import Foundation

/// Where models are found: the home's `models/<model id>/`, then the Hugging Face cache
/// (`$HF_HOME/hub`, else `~/.cache/huggingface/hub`, `models--<org>--<name>/snapshots/<rev>/`
/// with `refs/main` naming the revision), so a machine that ever ran sentence-transformers
/// already has its models.
public struct ModelLocator: Sendable {
    /// The home whose `models/` is searched first.
    public let home: HomeDirectory
    /// The Hugging Face hub cache directory.
    public let hubCache: String

    /// A locator for `home`, reading `HF_HOME` and `HOME` from `environment`.
    public init(home: HomeDirectory, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.home = home
        if let hf = environment["HF_HOME"], !hf.isEmpty {
            hubCache = HomeDirectory.absolute(hf, environment: environment) + "/hub"
        } else {
            hubCache = HomeDirectory.absolute("~/.cache/huggingface/hub", environment: environment)
        }
    }

    /// The home's directory of models.
    public var modelsDirectory: String { home.path + "/models" }

    /// Checks a model id (`org/name`): letters, digits, `-`, `_`, `.`, one `/` at most, no `..`.
    public static func validate(_ id: String) throws(ModelError) {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard !id.isEmpty, parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
            id.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) })
        else { throw ModelError("'\(id)' is not a model id (expected org/name, such as sentence-transformers/all-MiniLM-L6-v2)") }
    }

    /// The places searched for `id`, in order.
    public func candidates(_ id: String) -> [String] {
        var out = [modelsDirectory + "/" + id]
        let cacheName = "models--" + id.replacingOccurrences(of: "/", with: "--")
        let root = hubCache + "/" + cacheName
        if let rev = (try? String(contentsOfFile: root + "/refs/main", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !rev.isEmpty {
            out.append(root + "/snapshots/" + rev)
        }
        if let snaps = try? FileManager.default.contentsOfDirectory(atPath: root + "/snapshots") {
            for s in snaps.sorted() where !out.contains(root + "/snapshots/" + s) { out.append(root + "/snapshots/" + s) }
        }
        // Models named without their organisation (all-MiniLM-L6-v2) are sentence-transformers'.
        if !id.contains("/") { out += candidates("sentence-transformers/" + id).filter { !out.contains($0) } }
        return out
    }

    /// The directory holding `id`'s weights, or an error naming the id and every place searched.
    public func locate(_ id: String) throws(ModelError) -> String {
        try Self.validate(id)
        for dir in candidates(id) where FileManager.default.fileExists(atPath: dir + "/config.json") {
            return dir
        }
        let searched = [modelsDirectory + "/" + id, hubCache + "/models--" + id.replacingOccurrences(of: "/", with: "--")]
        throw ModelError(
            "model '\(id)' not found; searched \(searched.joined(separator: " and ")) (install it with `pxt models import DIR --model-id \(id)` or scripts/fetch-models.sh)")
    }

    /// A model available to this home.
    public struct Available: Sendable, Hashable {
        /// The model id.
        public var id: String
        /// Its directory.
        public var directory: String
        /// `home` or `huggingface`.
        public var source: String
        /// The embedding size, from its config, if it is a BERT encoder.
        public var dimensions: Int?
    }

    /// Every model in the home and the Hugging Face cache, home first.
    public func list() -> [Available] {
        var out: [Available] = []
        let fm = FileManager.default
        func dims(_ dir: String) -> Int? { (try? BertConfig.load(dir))?.hiddenSize }
        if let orgs = try? fm.contentsOfDirectory(atPath: modelsDirectory) {
            for org in orgs.sorted() {
                let d = modelsDirectory + "/" + org
                if fm.fileExists(atPath: d + "/config.json") {
                    out.append(Available(id: org, directory: d, source: "home", dimensions: dims(d)))
                } else if let names = try? fm.contentsOfDirectory(atPath: d) {
                    for n in names.sorted() where fm.fileExists(atPath: d + "/" + n + "/config.json") {
                        out.append(Available(id: org + "/" + n, directory: d + "/" + n, source: "home", dimensions: dims(d + "/" + n)))
                    }
                }
            }
        }
        if let entries = try? fm.contentsOfDirectory(atPath: hubCache) {
            for e in entries.sorted() where e.hasPrefix("models--") {
                let id = String(e.dropFirst("models--".count)).replacingOccurrences(of: "--", with: "/")
                guard !out.contains(where: { $0.id == id }), let dir = (try? locate(id)), dir.hasPrefix(hubCache) else { continue }
                out.append(Available(id: id, directory: dir, source: "huggingface", dimensions: dims(dir)))
            }
        }
        return out
    }

    /// Copies a model directory into the home as `id` (replacing an earlier copy), after
    /// checking that it loads.
    @discardableResult
    public func importModel(from source: String, id: String) throws(ModelError) -> String {
        try Self.validate(id)
        let src = HomeDirectory.absolute(source)
        guard FileManager.default.fileExists(atPath: src + "/config.json") else { throw ModelError("\(src): not a model directory (no config.json)") }
        _ = try SentenceEmbedder(directory: src)
        let target = modelsDirectory + "/" + id
        let staging = modelsDirectory + "/.import-" + UUID().uuidString
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // Follow links: a Hugging Face snapshot holds links into its blobs.
            try copyResolvingLinks(src, to: staging)
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
            try fm.moveItem(atPath: staging, toPath: target)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw ModelError("cannot import \(src) as \(id): \(error.localizedDescription)")
        }
        return target
    }

    private func copyResolvingLinks(_ src: String, to dst: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dst, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: src) where !name.hasPrefix(".") {
            let s = src + "/" + name
            let real = (try? fm.destinationOfSymbolicLink(atPath: s)).map { $0.hasPrefix("/") ? $0 : src + "/" + $0 } ?? s
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: real, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                try copyResolvingLinks(real, to: dst + "/" + name)
            } else {
                try fm.copyItem(atPath: real, toPath: dst + "/" + name)
            }
        }
    }
}
