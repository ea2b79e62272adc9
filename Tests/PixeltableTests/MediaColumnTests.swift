import Foundation
import Testing
@testable import Pixeltable
import PixeltableTestSupport

@Suite struct MediaColumnTests {
    /// A photos table with computed image columns of every kind the image functions make.
    func makePhotos(_ cat: Catalog) async throws -> Table {
        try await cat.createTable(
            "photos",
            columns: [
                .init("id", .int), .init("photo", .image), .init("tag", .string),
                .computed("thumb", "photo.thumbnail((32, 32))"), .computed("gray", "photo.convert('L')"),
                .computed("w", "photo.width"), .computed("sq", "photo.resize((10, 10)).size", stored: false),
            ], primaryKey: ["id"])
    }

    func mediaFiles(_ home: TempHome) -> [String] {
        let root = home.path + "/media"
        return (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
            .filter { (try? FileManager.default.attributesOfItem(atPath: root + "/" + $0)[.type] as? FileAttributeType) == .typeRegular }
            .sorted()
    }

    @Test func insertByPathComputesImagesIntoMediaWithTheVersionedLayout() async throws {
        try await withCatalog { cat, home in
            let t = try await makePhotos(cat)
            let dir = home.path + "-src"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let jpg = try TestImages.write(TestImages.pattern(120, 80), as: .jpeg, to: dir)
            let png = try TestImages.write(TestImages.pattern(50, 100, mode: .rgba), as: .png, to: dir)
            let webp = try TestImages.write(TestImages.pattern(64, 64, mode: .rgba), as: .webp, to: dir, name: "a b")
            let r = try await t.insert([
                ["id": 1, "photo": .string(jpg)], ["id": 2, "photo": .string("file://" + png)], ["id": 3, "photo": .string(webp)],
            ])
            #expect(r.rowCount == 3)
            // A path with a space is stored as its percent-encoded file URL; WebP with alpha
            // thumbnails as PNG.
            #expect(r.rows[2]["photo"] == .media("file://" + dir + "/a%20b.webp"))
            #expect(r.rows[2]["w"] == 64)
            // A referenced file stays where it is, as its file:// URL.
            #expect(r.rows[0]["photo"] == .media("file://" + jpg))
            #expect(r.rows[0]["w"] == 120)
            #expect(r.rows[0]["sq"] == .json([10, 10]))
            // Computed images are files under media/<table>/<u2>/<u4>/<table>_<col>_<version>_<u>.<ext>,
            // JPEG for a JPEG source without alpha, PNG otherwise.
            guard case .media(let thumbURL)? = r.rows[0]["thumb"], case .media(let thumb2)? = r.rows[1]["thumb"] else {
                Issue.record("no thumbnail")
                return
            }
            let thumbPath = try #require(MediaReference(parsing: thumbURL).localPath)
            #expect(thumbPath.hasPrefix(home.path + "/media/\(t.id)/"))
            let name = (thumbPath as NSString).lastPathComponent
            let thumbCol = try await t.columns().first { $0.name == "thumb" }!
            _ = thumbCol
            #expect(name.hasPrefix("\(t.id)_"))
            #expect(name.contains("_1_"))
            #expect(name.hasSuffix(".jpg"))
            let parts = thumbPath.split(separator: "/").suffix(3)
            let id = name.split(separator: "_").last!.prefix(32)
            #expect(parts.first! == id.prefix(2) && parts.dropFirst().first! == id.prefix(4))
            let h = try ImageCodec.probe(file: thumbPath)
            #expect(h.format == .jpeg && h.width == 32 && h.height == 21)
            let h2 = try ImageCodec.probe(file: try #require(MediaReference(parsing: thumb2).localPath))
            #expect(h2.format == .png && h2.width == 16 && h2.height == 32 && h2.mode == .rgba)
            // 3 rows x (thumb, gray), nothing else.
            #expect(mediaFiles(home).count == 6)
            // Stored values read back the same; properties work in where and select.
            let q = try await t.query().where("photo.width > 100").select(["id", "photo.height as h", "photo.mode as m"]).collect()
            #expect(q.rows.map(\.values) == [[1, 80, "RGB"]])
            let g = try await t.query().select(["gray.mode as m", "gray.size as s"]).orderBy(["id"]).collect()
            #expect(g.rows.map(\.values) == [["L", .json([120, 80])], ["L", .json([50, 100])], ["L", .json([64, 64])]])
            // No temporary file is left behind by the write.
            #expect((try FileManager.default.contentsOfDirectory(atPath: home.path + "/tmp")).isEmpty)
        }
    }

    @Test func everyImageFunctionHasTheRightSizeAndMode() async throws {
        try await withCatalog { cat, home in
            let t = try await cat.createTable("p", columns: [.init("id", .int), .init("img", .image)], primaryKey: ["id"])
            let dir = home.path + "-src"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let src = TestImages.pattern(64, 40)
            let path = try TestImages.write(src, as: .png, to: dir)
            try await t.insert([["id": 1, "img": .string(path)]])
            let items = [
                "img.resize((20, 30)).size", "img.thumbnail((16, 16)).size", "img.rotate(90).size", "img.rotate(45).mode",
                "img.crop((0, 0, 10, 5)).size", "img.convert('L').mode", "img.convert('RGBA').mode", "img.transpose(2).size",
                "img.getpixel((3, 4))", "len(img.histogram())", "img.getchannel(0).mode", "img.reduce(4).size", "img.get_metadata()",
            ]
            let r = try await t.query().select(items.enumerated().map { "\($0.element) as c\($0.offset)" }).collect()
            let v = r.rows[0].values
            #expect(v[0] == .json([20, 30]))
            #expect(v[1] == .json([16, 10]))
            #expect(v[2] == .json([64, 40]))
            #expect(v[3] == "RGB")
            #expect(v[4] == .json([10, 5]))
            #expect(v[5] == "L")
            #expect(v[6] == "RGBA")
            #expect(v[7] == .json([40, 64]))
            #expect(v[8] == .json(try ImageTransforms.pixel(src, x: 3, y: 4)))
            #expect(v[9] == 768)
            #expect(v[10] == "L")
            #expect(v[11] == .json([16, 10]))
            #expect(v[12] == .json(["width": 64, "height": 40, "mode": "RGB", "bits": 8, "format": "PNG"]))
            // b64_encode gives the encoded file; a selected image expression is written to tmp/.
            let b = try await t.query().select(["img.b64_encode('png') as b", "img.resize((8, 8)) as small"]).collect()
            let bytes = [UInt8](Data(base64Encoded: b.rows[0]["b"]!.stringValue!)!)
            #expect(try ImageCodec.decode(bytes).pixels == src.pixels)
            guard case .media(let small)? = b.rows[0]["small"] else { Issue.record("no image"); return }
            let smallPath = try #require(MediaReference(parsing: small).localPath)
            #expect(smallPath.hasPrefix(home.path + "/tmp/"))
            #expect(try ImageCodec.probe(file: smallPath).width == 8)
            // Bad arguments are errors, not crashes.
            await #expect(throws: PixeltableError.self) { try await t.query().select(["img.crop((5, 0, 1, 5)) as x"]).collect() }
            await #expect(throws: PixeltableError.self) { try await t.query().select(["img.resize((0, 5)) as x"]).collect() }
            await #expect(throws: PixeltableError.self) { try await t.query().select(["img.resize(5) as x"]).collect() }
            await #expect(throws: PixeltableError.self) { try await t.query().select(["img.convert('CMYK') as x"]).collect() }
            // A typo in a property is reported at bind time.
            await #expect(throws: PixeltableError.self) { try await t.query().select(["img.widht"]).collect() }
        }
    }

    @Test func badMediaIsRejectedNamingRowAndColumnAndNothingIsStored() async throws {
        try await withCatalog { cat, home in
            let t = try await makePhotos(cat)
            let dir = home.path + "-src"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let good = try TestImages.write(TestImages.pattern(40, 30), as: .jpeg, to: dir)
            let text = dir + "/notes.jpg"
            _ = FileManager.default.createFile(atPath: text, contents: Data("not an image".utf8))
            let cut = TestImages.truncate(good, keeping: 0.5, to: dir + "/cut.jpg")
            let cases: [(Value, String)] = [
                (.string(dir + "/missing.jpg"), "file not found: '\(dir)/missing.jpg'"),
                (.string(text), "not a valid image: cannot identify image file: '\(text)'"),
                (.string(cut), "image file is truncated: '\(cut)'"),
                (.string("s3://bucket/x.jpg"), "unsupported URL scheme 's3'"),
                (.string("file://host/x.jpg"), "file URL names a remote host"),
            ]
            for (bad, message) in cases {
                do {
                    try await t.insert([["id": 1, "photo": .string(good)], ["id": 2, "photo": bad]])
                    Issue.record("inserted \(bad)")
                } catch let error as PixeltableError {
                    #expect(error.message.hasPrefix("Table 'photos', column 'photo', row 1: "), "\(error.message)")
                    #expect(error.message.contains(message), "\(error.message)")
                    #expect(error.code == .invalidDataFormat)
                }
            }
            #expect(try await t.count() == 0)
            #expect(mediaFiles(home).isEmpty)
            #expect((try FileManager.default.contentsOfDirectory(atPath: home.path + "/tmp")).isEmpty)
            // A failing computed image aborts the insert (on_error abort) and leaves no file.
            let t2 = try await cat.createTable("t2", columns: [.init("id", .int), .init("p", .image), .computed("c", "p.crop((9, 9, 1, 1))")])
            await #expect(throws: PixeltableError.self) { try await t2.insert([["id": 1, "p": .string(good)]]) }
            #expect(mediaFiles(home).isEmpty)
        }
    }

    @Test func brokenFilesAreCellErrorsWithOnErrorIgnore() async throws {
        try await withCatalog { cat, home in
            let t = try await cat.createTable("t", columns: [.init("id", .int), .init("p", .image), .computed("c", "p.rotate(90)", onError: .ignore)], primaryKey: ["id"])
            let dir = home.path + "-src"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            // Complete on disk (its IEND chunk is there) but its pixel data is damaged.
            var bytes = [UInt8](try ImageCodec.encode(TestImages.pattern(64, 64), as: .png))
            for i in (bytes.count / 2)..<(bytes.count / 2 + 64) { bytes[i] ^= 0x5A }
            let path = dir + "/damaged.png"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            #expect(try ImageCodec.probe(file: path).isComplete)
            let good = try TestImages.write(TestImages.pattern(20, 20), as: .png, to: dir)
            let r = try await t.insert([["id": 1, "p": .string(good)], ["id": 2, "p": .string(path)]])
            #expect(r.rowCount == 2 && r.errorCount == 1)
            let errors = try await t.errors()
            #expect(errors.count == 1)
            #expect(errors.first?.errorType == "OSError")
            #expect(errors.first?.primaryKey.first?.1 == 2)
            #expect(errors.first?.errorMessage?.contains("PNG") == true)
            let c = try await t.query().select(["id", "c"]).orderBy(["id"]).collect()
            #expect(c.rows[1]["c"] == .null)
            #expect(c.rows[0]["c"] != .null)
        }
    }

    @Test func revertAndDropRemoveExactlyTheirOwnFiles() async throws {
        try await withCatalog { cat, home in
            let t = try await makePhotos(cat)
            let dir = home.path + "-src"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let a = try TestImages.write(TestImages.pattern(60, 40), as: .png, to: dir, name: "a")
            let b = try TestImages.write(TestImages.pattern(40, 60), as: .jpeg, to: dir, name: "b")
            try await t.insert([["id": 1, "photo": .string(a)]])
            let afterFirst = mediaFiles(home)
            #expect(afterFirst.count == 2)
            try await t.insert([["id": 2, "photo": .string(b)]])
            #expect(mediaFiles(home).count == 4)
            // An update of a column the images do not depend on writes no image.
            try await t.update(["tag": "x"], where: "id == 1")
            #expect(mediaFiles(home).count == 4)
            try await t.revert()
            try await t.revert()
            #expect(mediaFiles(home) == afterFirst)
            // A computed image column added later writes its files in the version adding it.
            try await t.addComputedColumn("rot", expression: "photo.rotate(180)")
            #expect(mediaFiles(home).count == 3)
            try await t.revert()
            #expect(mediaFiles(home) == afterFirst)
            try await cat.drop("photos")
            #expect(mediaFiles(home).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: home.path + "/media/\(t.id)"))
            // The user's files are never touched.
            #expect(FileManager.default.fileExists(atPath: a) && FileManager.default.fileExists(atPath: b))
        }
    }

    @Test func temporaryFilesAreAdoptedIntoMediaAndInMemoryImagesStored() async throws {
        try await withCatalog { cat, home in
            let t = try await cat.createTable("t", columns: [.init("id", .int), .init("p", .image)], primaryKey: ["id"])
            // What an upload does: a file in tmp/ becomes a stored file of the row.
            let upload = cat.media.temporaryPath(extension: ".png")
            let img = TestImages.pattern(9, 7)
            _ = FileManager.default.createFile(atPath: upload, contents: Data(try ImageCodec.encode(img, as: .png)))
            let r = try await t.insert([["id": 1, "p": .string(upload)], ["id": 2, "p": .image(ImageValue(img))]])
            for row in r.rows {
                guard case .media(let url)? = row["p"], let p = try MediaReference(parsing: url).localPath else { Issue.record("no file"); continue }
                #expect(p.hasPrefix(home.path + "/media/\(t.id)/"))
                #expect(try ImageCodec.decode(file: p).pixels == img.pixels)
            }
            // The upload's temporary file is its owner's to remove; the engine's copy is gone.
            #expect(FileManager.default.fileExists(atPath: upload))
            #expect(try FileManager.default.contentsOfDirectory(atPath: home.path + "/tmp") == [(upload as NSString).lastPathComponent])
        }
    }
}
