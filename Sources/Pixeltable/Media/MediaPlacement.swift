import Foundation
import Synchronization

/// The media files one write stores under `media/`.
///
/// A stored file's name carries the table version that wrote it (so that a revert can find
/// it), but the version is only known inside the write transaction. Files are therefore first
/// written to `tmp/` — in-memory images encoded, uploads already there — and inside the
/// transaction hard-linked to their final names, which is cheap and safe to repeat when the
/// group committer runs the write again. Once the transaction ended, ``finish(committed:)``
/// removes the staged copies and any file placed for a version that did not commit.
final class MediaPlacement: Sendable {
    /// One file to store: the cell it belongs to and where it is staged.
    struct Item: Sendable {
        var row: Int
        var column: Int
        var source: String
        var id: String
        var fileExtension: String
        /// The staged file was written by this placement (an encoded image), not handed in.
        var ownsSource: Bool
    }

    let store: MediaStore
    let tableID: String
    private let state = Mutex<(items: [Item], placed: [(path: String, version: Int)])>(([], []))
    /// Staged files are flushed to disk on other threads while the write goes on (uploads while
    /// the row is computed); placing them waits for that, so the commit still follows their data.
    private let flushing = DispatchGroup()
    private let flushFailure = Mutex<String?>(nil)

    init(store: MediaStore, tableID: String) {
        self.store = store
        self.tableID = tableID
    }

    /// Whether any file waits to be placed.
    var isEmpty: Bool { state.withLock { $0.items.isEmpty } }

    /// Notes the files `rows` need stored: in-memory images (encoded now, to `tmp/`) and
    /// references to files in the home's `tmp/` (uploads). Run before the transaction.
    ///
    /// - Parameters:
    ///   - rowOffset: The index of `rows[0]` in the write, for messages.
    ///   - owning: Whether files in `tmp/` were made for this write (an iterator's frames, a
    ///     function's output) and are removed once placed; uploads are not (their request
    ///     removes them).
    func stage(_ rows: [RowContext], columns: [ColumnInfo], table: String, rowOffset: Int = 0, firstRow: Int = 0, owning: Bool = false) throws(PixeltableError) {
        var added: [Item] = []
        do {
            for (i, row) in rows.enumerated() {
                for c in columns {
                    switch row.value(c.id) {
                    case .image(let img):
                        let (path, ext) = try write(img, table: table, column: c.name, row: i + rowOffset)
                        added.append(Item(row: firstRow + i, column: c.id, source: path, id: MediaStore.randomHex(), fileExtension: ext, ownsSource: true))
                    case .media(let url):
                        guard let p = (try? MediaReference(parsing: url))?.localPath, store.isTemporary(p) else { continue }
                        added.append(Item(row: firstRow + i, column: c.id, source: p, id: MediaStore.randomHex(), fileExtension: Self.fileExtension(of: p), ownsSource: owning))
                        flush(p)
                    default: continue
                    }
                }
            }
        } catch {
            for it in added where it.ownsSource { unlink(it.source) }
            throw error
        }
        state.withLock { $0.items += added }
    }

    /// Encodes an image for storage: as it is when it is an unchanged file, else PNG, or JPEG
    /// when it came from a JPEG and has no alpha.
    private func write(_ img: ImageValue, table: String, column: String, row: Int) throws(PixeltableError) -> (String, String) {
        if let p = img.path {
            let ext = Self.fileExtension(of: p)
            let target = store.temporaryPath(extension: ext.isEmpty ? ".img" : ext)
            do { try FileManager.default.copyItem(atPath: p, toPath: target) } catch {
                throw PixeltableError(.storeUnavailable, "Table '\(table)', column '\(column)', row \(row): cannot copy \(p): \(error.localizedDescription)")
            }
            flush(target)
            return (target, ext)
        }
        let pixels: PixelImage
        let bytes: [UInt8]
        do {
            pixels = try img.pixels()
            bytes = try ImageCodec.encode(pixels, as: pixels.storageFormat)
        } catch {
            throw PixeltableError(.internalError, "Table '\(table)', column '\(column)', row \(row): cannot encode the image: \(error.message)")
        }
        let ext = pixels.storageFormat.fileExtension
        let target = store.temporaryPath(extension: ext)
        // Flushed to disk on another thread, like uploads; placing waits for it.
        try MediaStore.writeDurably(bytes, to: target, durable: false)
        flush(target)
        return (target, ext)
    }

    static func fileExtension(of path: String) -> String {
        let e = (path as NSString).pathExtension
        return e.isEmpty || e.count > 10 ? "" : "." + e.lowercased()
    }

    private func finalPath(_ it: Item, version: Int) -> String {
        store.storedPath(tableID: tableID, columnID: it.column, version: version, id: it.id, extension: it.fileExtension)
    }

    /// Starts flushing a handed-in file to disk.
    private func flush(_ path: String) {
        DispatchQueue.global().async(group: flushing) { [self] in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 || fsync(fd) != 0 {
                let reason = String(cString: strerror(errno))
                flushFailure.withLock { $0 = "cannot flush \(path) to disk: \(reason)" }
            }
            if fd >= 0 { close(fd) }
        }
    }

    /// Inside the transaction: links every staged file to its name for `version`.
    func place(version: Int) throws(PixeltableError) {
        flushing.wait()
        if let f = flushFailure.withLock({ $0 }) { throw PixeltableError(.storeUnavailable, f) }
        let items = state.withLock { $0.items }
        for it in items {
            let target = finalPath(it, version: version)
            try MediaStore.place(it.source, at: target)
            state.withLock { $0.placed.append((target, version)) }
        }
    }

    /// `rows` (indexed as staged) with each staged cell set to its stored file's URL for `version`.
    func resolve(_ rows: [RowContext], version: Int) -> [RowContext] {
        let items = state.withLock { $0.items }
        if items.isEmpty { return rows }
        var out = rows
        for it in items where it.row < out.count {
            out[it.row].values[it.column] = .media(MediaReference.file(finalPath(it, version: version)).url)
        }
        return out
    }

    /// After the transaction: removes staged copies this placement wrote, and files placed for
    /// any version but the committed one (all of them when nothing committed).
    func finish(committed version: Int?) {
        let (items, placed) = state.withLock { s in (s.items, s.placed) }
        for p in placed where p.version != version { unlink(p.path) }
        for it in items where it.ownsSource { unlink(it.source) }
        state.withLock { $0 = ([], []) }
    }

    /// Forgets (and removes the files of) an earlier run of a write that stages inside its
    /// transaction, which the group committer may run twice.
    func restart() { finish(committed: nil) }
}

/// The placements of a write that stores its rows in chunks, one placement per chunk.
final class MediaPlacementList: Sendable {
    private let list = Mutex<[MediaPlacement]>([])

    /// A new placement for the next chunk of `writer`'s rows (`nil` without media columns).
    func next(_ writer: RowWriter) -> MediaPlacement? {
        guard let p = writer.placement() else { return nil }
        list.withLock { $0.append(p) }
        return p
    }

    /// Forgets an earlier run of the write, removing its files.
    func restart() {
        for p in list.withLock({ l in defer { l = [] }; return l }) { p.restart() }
    }

    /// Ends every placement (see ``MediaPlacement/finish(committed:)``).
    func finish(committed version: Int?) {
        for p in list.withLock({ l in defer { l = [] }; return l }) { p.finish(committed: version) }
    }
}
