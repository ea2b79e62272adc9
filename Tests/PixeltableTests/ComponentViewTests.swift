import Foundation
import Testing

@testable import Pixeltable

@Suite(.enabled(if: ffmpegAvailable, "needs ffmpeg and ffprobe (scripts/install-deps.sh; .ci/run installs them)"))
struct VideoFunctionTests {
    @Test func metadataDurationFrameAndAudio() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clip = try MediaFixtures.video(dir, seconds: 3, fps: 10)
        try await withCatalog { catalog, _ in
            let t = try await catalog.createTable("videos", columns: [ColumnSpec("clip", ColumnType(.video))])
            try await t.addComputedColumn("meta", expression: "clip.get_metadata()")
            try await t.addComputedColumn("duration", expression: "clip.get_duration()")
            try await t.addComputedColumn("first", expression: "clip.extract_frame(timestamp=1.0)")
            try await t.addComputedColumn("sound", expression: "clip.extract_audio(format='wav')")
            try await t.insert(["clip": .string(clip)])
            let r = try await t.select(["meta", "duration", "first", "sound", "first.width"]).rows[0]
            guard case .json(let meta) = r.values[0] else { Issue.record("meta is \(r.values[0])"); return }
            let video = meta["streams"]?[0]
            #expect(video?["type"] == .string("video"))
            #expect(video?["width"]?.intValue == 160)
            #expect(video?["height"]?.intValue == 120)
            #expect(video?["average_rate"]?.doubleValue == 10)
            #expect(video?["codec_context"]?["name"] == .string("h264"))
            #expect(meta["streams"]?[1]?["type"] == .string("audio"))
            guard case .float(let d) = r.values[1] else { Issue.record("duration is \(r.values[1])"); return }
            #expect(abs(d - 3.0) < 0.05)
            #expect(r.values[4] == .int(160))
            guard case .media(let url) = r.values[3], let path = try MediaReference(parsing: url).localPath else { Issue.record("sound is \(r.values[3]) \(r.values)"); return }
            #expect(path.contains("/media/"))
            let probe = try MediaProbe.probe(path, environment: MediaFixtures.env)
            #expect(probe.audio?.codecName == "pcm_s16le")
        }
    }

    @Test func aCorruptVideoIsAPerCellErrorAndTheRowIsKept() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/broken.mp4"
        try Data("this is not a video".utf8).write(to: URL(fileURLWithPath: bad))
        try await withCatalog { catalog, _ in
            let t = try await catalog.createTable("videos", columns: [ColumnSpec("clip", ColumnType(.video))])
            try await t.addComputedColumn("duration", expression: "clip.get_duration()", onError: .ignore)
            let w = try await t.insert([["clip": .string(bad)]])
            #expect(w.errorCount == 1)
            let r = try await t.select(["duration", "duration.errortype", "duration.errormsg"]).rows
            #expect(r.count == 1)
            #expect(r[0].values[0] == .null)
            #expect(r[0].values[1] == .string("InvalidDataError"))
            #expect(r[0].values[2].stringValue?.contains("broken.mp4") == true)
        }
    }

    @Test func aMissingToolNamesThePackage() throws {
        #expect(throws: FunctionError.self) { try MediaProbe.probe("/x.mp4", environment: ["PATH": "/nonexistent"]) }
        do {
            _ = try MediaProbe.probe("/x.mp4", environment: ["PATH": "/nonexistent"])
        } catch {
            #expect(error.message.contains("ffprobe is not installed"))
            #expect(error.message.contains("'ffmpeg' package"))
        }
        do {
            _ = try ExternalTool.pdftotext.run(["x.pdf"], environment: ["PATH": "/nonexistent"])
        } catch {
            #expect(error.message.contains("'poppler-utils' package"))
        }
    }

    @Test func aToolThatHangsIsKilledAtTheTimeout() throws {
        let sleep = ExternalTool(name: "sleep", package: "coreutils")
        let start = Date()
        #expect(throws: FunctionError.self) { try sleep.run(["30"], environment: MediaFixtures.env, timeout: 0.5) }
        #expect(Date().timeIntervalSince(start) < 20)
    }
}

@Suite(.enabled(if: ffmpegAvailable, "needs ffmpeg and ffprobe (scripts/install-deps.sh; .ci/run installs them)"))
struct ComponentViewTests {
    @Test func framesAtOneFPSStayInStepWithInsertDeleteUpdateAndRevert() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let four = try MediaFixtures.video(dir, name: "four.mp4", seconds: 4, fps: 10)
        let two = try MediaFixtures.video(dir, name: "two.mp4", seconds: 2, fps: 10)
        try await withCatalog { catalog, home in
            let videos = try await catalog.createTable("videos", columns: [ColumnSpec("id", ColumnType(.int, nullable: false)), ColumnSpec("clip", ColumnType(.video))], primaryKey: ["id"])
            try await videos.insert(["id": .int(1), "clip": .string(four)])
            let frames = try await catalog.createView("frames", base: "videos", iterator: "video.frame_iterator(clip, fps=1)")
            // Created from the existing row: 4 frames at 0, 1, 2, 3 s.
            var r = try await frames.select(["id", "pos", "frame_idx", "frame_attrs.time", "frame.width"], orderBy: ["pos"])
            #expect(r.rows.map { $0.values[1] } == [.int(0), .int(1), .int(2), .int(3)])
            #expect(r.rows.map { $0.values[2] } == [.int(0), .int(10), .int(20), .int(30)])
            #expect(r.rows.allSatisfy { $0.values[0] == .int(1) && $0.values[4] == .int(160) })
            let times = r.rows.compactMap { $0.values[3].doubleValue ?? $0.values[3].json.doubleValue }
            #expect(zip(times, [0.0, 1.0, 2.0, 3.0]).allSatisfy { abs($0 - $1) < 0.06 })
            // Frames are stored files under media/.
            let urls = try await frames.select(["frame"]).rows.compactMap { $0.values[0].stringValue }
            #expect(urls.count == 4 && urls.allSatisfy { $0.contains("/media/") })

            // A computed column on the view.
            try await frames.addComputedColumn("small", expression: "frame.resize((16, 12))")
            // Insert: the new row's frames are added in the same write.
            try await videos.insert(["id": .int(2), "clip": .string(two)])
            #expect(try await frames.count() == 6)
            r = try await frames.select(["pos", "small.width"], where: "id == 2", orderBy: ["pos"])
            #expect(r.rows.map { $0.values[1] } == [.int(16), .int(16)])
            // Update: the row's frames are made again.
            try await videos.update(["clip": .string(four)], where: "id == 2")
            #expect(try await frames.count() == 8)
            // Delete: its frames go.
            try await videos.delete(where: "id == 1")
            #expect(try await frames.count() == 4)
            // Revert the delete, then the update: the view follows.
            try await videos.revert()
            #expect(try await frames.count() == 8)
            try await videos.revert()
            #expect(try await frames.count() == 6)
            #expect(try await frames.count(asOf: 0) == 4)
            // Reverting past the view's creation is refused.
            try await videos.revert()
            #expect(try await frames.count() == 4)
            await #expect(throws: PixeltableError.self) { try await videos.revert() }
            // No scratch files are left in tmp/.
            let tmp = (try? FileManager.default.contentsOfDirectory(atPath: home.path + "/tmp")) ?? []
            #expect(tmp.filter { $0.hasPrefix("iter-") }.isEmpty)
            // The view's own version history follows the base.
            let history = try await frames.history()
            #expect(history.map(\.version) == [1, 0])
            // Inserting into a view is refused.
            await #expect(throws: PixeltableError.self) { try await frames.insert(["pos": .int(9)]) }
        }
    }

    @Test func numFramesAndKeyframes() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clip = try MediaFixtures.video(dir, seconds: 4, fps: 10)
        try await withCatalog { catalog, _ in
            let videos = try await catalog.createTable("videos", columns: [ColumnSpec("clip", ColumnType(.video))])
            try await videos.insert(["clip": .string(clip)])
            let n = try await catalog.createView("n", base: "videos", iterator: "video.frame_iterator(clip, num_frames=5)")
            #expect(try await n.count() == 5)
            let k = try await catalog.createView("k", base: "videos", iterator: "video.frame_iterator(clip, keyframes_only=True)")
            let keys = try await k.select(["frame_attrs.key_frame"]).rows
            #expect(keys.count == 4)
            let all = try await catalog.createView("all", base: "videos", iterator: "video.frame_iterator(clip)")
            #expect(try await all.count() == 40)
            await #expect(throws: PixeltableError.self) {
                try await catalog.createView("bad", base: "videos", iterator: "video.frame_iterator(clip, fps=1, num_frames=2)")
            }
            await #expect(throws: PixeltableError.self) { try await catalog.createView("bad", base: "videos", iterator: "video.frame_iterator(nope)") }
            await #expect(throws: PixeltableError.self) { try await catalog.createView("bad", base: "videos", iterator: "video.no_such(clip)") }
        }
    }

    @Test func aCorruptVideoFailsTheInsertNamingTheViewAndNothingIsWritten() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/broken.mp4"
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: bad))
        let good = try MediaFixtures.video(dir, seconds: 1, fps: 5)
        try await withCatalog { catalog, _ in
            let videos = try await catalog.createTable("videos", columns: [ColumnSpec("clip", ColumnType(.video))])
            let frames = try await catalog.createView("frames", base: "videos", iterator: "video.frame_iterator(clip, fps=1)")
            do {
                try await videos.insert([["clip": .string(good)], ["clip": .string(bad)]])
                Issue.record("the insert should fail")
            } catch let error as PixeltableError {
                #expect(error.message.contains("View 'frames', row 1"))
                #expect(error.message.contains("broken.mp4"))
            }
            #expect(try await videos.count() == 0)
            #expect(try await frames.count() == 0)
            // With on_error ignore the rows are kept; the corrupt one has no frames.
            let w = try await videos.insert([["clip": .string(good)], ["clip": .string(bad)]], onError: .ignore)
            #expect(w.rowCount == 2)
            #expect(try await frames.count() == 1)
        }
    }

    @Test func audioSegments() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tone = try MediaFixtures.audio(dir, seconds: 7)
        try await withCatalog { catalog, _ in
            let pods = try await catalog.createTable("pods", columns: [ColumnSpec("audio", ColumnType(.audio))])
            try await pods.insert(["audio": .string(tone)])
            let chunks = try await catalog.createView("chunks", base: "pods", iterator: "audio.audio_splitter(audio, duration=3.0)")
            let r = try await chunks.select(["segment_start", "segment_end", "audio_segment.get_duration()"], orderBy: ["pos"]).rows
            #expect(r.map { $0.values[0] } == [.float(0), .float(3), .float(6)])
            #expect(r.map { $0.values[1] } == [.float(3), .float(6), .float(7)])
            let durations = r.compactMap { $0.values[2].doubleValue }
            #expect(zip(durations, [3.0, 3.0, 1.0]).allSatisfy { abs($0 - $1) < 0.05 })
            let overlapping = try await catalog.createView(
                "overlap", base: "pods", iterator: "audio.audio_splitter(audio, duration=3.0, overlap=1.0, min_segment_duration=2.0)")
            let o = try await overlapping.select(["segment_start", "segment_end"], orderBy: ["pos"]).rows
            #expect(o.map { $0.values[0] } == [.float(0), .float(2), .float(4)])
            #expect(o.map { $0.values[1] } == [.float(3), .float(5), .float(7)])
        }
    }
}

@Suite(.enabled(if: pdfToolsAvailable, "needs pdftotext and ps2pdf (poppler-utils, ghostscript; .ci/run installs them)"))
struct DocumentViewTests {
    @Test func pdfPagesBecomePassagesWithPageNumbers() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pdf = try MediaFixtures.pdf(dir, pages: ["First page text.", "Second page text.", "Third page text."])
        let md = dir + "/notes.md"
        try "# Notes\n\nAlpha paragraph.\n\nBeta paragraph.\n".write(toFile: md, atomically: true, encoding: .utf8)
        try await withCatalog { catalog, _ in
            let docs = try await catalog.createTable("docs", columns: [ColumnSpec("doc", ColumnType(.document))])
            try await docs.addComputedColumn("content", expression: "doc.extract_text()")
            try await docs.insert(["doc": .string(pdf)])
            let text = try await docs.select(["content"]).rows[0].values[0].stringValue ?? ""
            #expect(text.contains("First page text.") && text.contains("Third page text."))
            let pages = try await catalog.createView(
                "pages", base: "docs", iterator: "document.document_splitter(doc, separators='page', metadata='title,page')")
            let r = try await pages.select(["text", "page", "title"], orderBy: ["pos"]).rows
            #expect(r.map { $0.values[1] } == [.int(0), .int(1), .int(2)])
            #expect(r[1].values[0].stringValue?.contains("Second page text.") == true)
            #expect(r[0].values[2] == .string("Test Document"))
            try await docs.insert(["doc": .string(md)])
            #expect(try await pages.count() >= 4)
            try await docs.revert()
            #expect(try await pages.count() == 3)
        }
    }

    @Test func aCorruptPDFIsAClearError() async throws {
        let dir = MediaFixtures.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/broken.pdf"
        try Data("%PDF-1.4 not really".utf8).write(to: URL(fileURLWithPath: bad))
        try await withCatalog { catalog, _ in
            let docs = try await catalog.createTable("docs", columns: [ColumnSpec("doc", ColumnType(.document))])
            try await docs.addComputedColumn("text", expression: "doc.extract_text()", onError: .ignore)
            try await docs.insert(["doc": .string(bad)])
            let r = try await docs.select(["text.errortype", "text.errormsg"]).rows[0]
            #expect(r.values[0] == .string("InvalidDataError"))
            #expect(r.values[1].stringValue?.contains("broken.pdf") == true)
        }
    }
}

struct StringSplitterViewTests {
    @Test func sentencesOfAStringColumn() async throws {
        try await withCatalog { catalog, _ in
            let notes = try await catalog.createTable("notes", columns: [ColumnSpec("body", ColumnType(.string))])
            try await notes.insert(["body": .string("One fish. Two fish! Red fish?")])
            let s = try await catalog.createView("sentences", base: "notes", iterator: "string.string_splitter(body, separators='sentence')")
            #expect(try await s.count() >= 1)
            let meta = try await s.metadata()
            #expect(meta["is_view"] == .bool(true))
        }
    }
}

struct ComponentViewModuleTests {
    static let module = """
        [[dir]]
        path = "media"

        [[table]]
        path = "media/notes"
        [table.columns]
        body = "String"

        [[view]]
        path     = "media/sentences"
        base     = "media/notes"
        iterator = "string.string_splitter(body, separators='sentence')"
        [[view.computed]]
        name = "shout"
        expr = "text.upper()"
        """

    @Test func aModuleFileDeclaresAComponentViewWithAComputedColumn() async throws {
        try await withCatalog { cat, _ in
            let m = try ModuleFile.parse(Self.module, file: "media.toml")
            let applied = try await m.apply(cat)
            #expect(!applied.inAgreement)
            #expect(try await cat.kind(of: "media/sentences") == .view)
            let notes = try await cat.table("media/notes")
            try await notes.insert(["body": .string("Hello there.")])
            let view = try await cat.table("media/sentences")
            let r = try await view.select(["text", "shout"]).rows
            #expect(r.count == 1)
            #expect(r.first?.values[1].stringValue?.hasPrefix("HELLO") == true)
            let again = try await m.plan(cat)
            #expect(again.inAgreement, "\(again.text)")
            // A bad iterator is an error naming the file and line.
            let bad = Self.module.replacingOccurrences(of: "string.string_splitter(body", with: "string.string_splitter(nope")
            do {
                _ = try await ModuleFile.parse(bad, file: "media.toml").plan(cat)
                Issue.record("a bad iterator should fail")
            } catch let error as PixeltableError {
                #expect(error.message.contains("media.toml:"))
                #expect(error.message.contains("nope"))
            }
        }
    }
}
