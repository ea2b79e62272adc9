import Foundation

/// A one-line progress bar on standard error, redrawn with `\r`, shown only on a terminal.
final class ProgressBar {
    private let enabled: Bool
    private var shown = false
    private var lastDraw = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total >= 1000 else { return }
        let now = Date()
        if done < total && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        let width = 30
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        Console.write(String(format: "\r[%@] %3d%%  %d/%d rows", bar, Int(fraction * 100), done, total), fd: 2)
        shown = true
    }

    func finish() {
        if shown { Console.write("\n", fd: 2) }
        shown = false
    }
}
