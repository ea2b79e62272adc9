import Foundation

@testable import Pixeltable

/// Whether ffmpeg and ffprobe are on PATH (scripts/install-deps.sh and .ci/run install them).
let ffmpegAvailable = ExternalTool.ffmpeg.locate(path: ProcessInfo.processInfo.environment["PATH"]) != nil
    && ExternalTool.ffprobe.locate(path: ProcessInfo.processInfo.environment["PATH"]) != nil
/// Whether pdftotext and ps2pdf are on PATH (poppler-utils and ghostscript).
let pdfToolsAvailable = ExternalTool.pdftotext.locate(path: ProcessInfo.processInfo.environment["PATH"]) != nil
    && ExternalTool(name: "ps2pdf", package: "ghostscript").locate(path: ProcessInfo.processInfo.environment["PATH"]) != nil

/// Media files the tests make themselves, with ffmpeg's test sources and ghostscript.
enum MediaFixtures {
    static let env = ProcessInfo.processInfo.environment

    /// A video of `seconds` seconds at `fps` frames per second (ffmpeg's `testsrc`), H.264 in MP4,
    /// with a sine audio track when `audio`.
    static func video(_ dir: String, name: String = "clip.mp4", seconds: Int = 4, fps: Int = 10, size: String = "160x120", audio: Bool = true) throws -> String {
        let path = dir + "/" + name
        var args = ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=\(seconds):size=\(size):rate=\(fps)"]
        if audio { args += ["-f", "lavfi", "-i", "sine=frequency=440:duration=\(seconds)", "-c:a", "aac", "-shortest"] }
        args += ["-c:v", "libx264", "-g", "\(fps)", "-pix_fmt", "yuv420p", path]
        _ = try ExternalTool.ffmpeg.run(args, environment: env)
        return path
    }

    /// A WAV file of a 440 Hz sine, `seconds` long.
    static func audio(_ dir: String, name: String = "tone.wav", seconds: Double = 7) throws -> String {
        let path = dir + "/" + name
        _ = try ExternalTool.ffmpeg.run(
            ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=\(seconds)", "-c:a", "pcm_s16le", path], environment: env)
        return path
    }

    /// A PDF with one page per string (PostScript through ps2pdf).
    static func pdf(_ dir: String, name: String = "doc.pdf", pages: [String], title: String = "Test Document") throws -> String {
        var ps = "%!PS-Adobe-3.0\n[ /Title (\(title)) /DOCINFO pdfmark\n/Helvetica findfont 12 scalefont setfont\n"
        for page in pages {
            var y = 700
            for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
                let escaped = line.replacingOccurrences(of: "(", with: "\\(").replacingOccurrences(of: ")", with: "\\)")
                ps += "72 \(y) moveto (\(escaped)) show\n"
                y -= 16
            }
            ps += "showpage\n"
        }
        let psPath = dir + "/" + name + ".ps"
        try ps.write(toFile: psPath, atomically: true, encoding: .utf8)
        let path = dir + "/" + name
        _ = try ExternalTool(name: "ps2pdf", package: "ghostscript").run([psPath, path], environment: env)
        return path
    }

    /// A fresh directory for a test's files.
    static func directory() -> String {
        let d = NSTemporaryDirectory() + "pxt-media-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}
