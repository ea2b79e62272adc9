import Foundation
import Pixeltable
import PixeltableTestSupport
import Testing

private let photosModule = """
    [[table]]
    path = "photos"
    primary_key = ["id"]

    [table.columns]
    id = "Int"
    photo = "Image"

    [[table.computed]]
    name = "thumb"
    expr = "photo.thumbnail((16, 16))"
    """

@Suite struct MediaCommandTests {
    @Test func insertTakesRelativePathsAndRowsShowImagesAsPillowDoes() throws {
        try withCLI { env in
            #expect(env.apply("photos.toml", photosModule).code == 0)
            let pics = env.workDir + "/pics"
            try TestImages.write(TestImages.pattern(40, 30), as: .jpeg, to: pics, name: "a")
            try TestImages.write(TestImages.pattern(20, 50, mode: .rgba), as: .png, to: pics, name: "b")
            // Relative to where the command runs, not to the daemon.
            let jsonl = env.write("pics/rows.jsonl", "{\"id\": 1, \"photo\": \"a.jpg\"}\n{\"id\": 2, \"photo\": \"b.png\"}\n")
            var r = env.run(["insert", "photos", jsonl], cwd: pics)
            #expect(r.code == 0, "\(r.err)")
            r = env.run(["rows", "photos"])
            #expect(r.code == 0)
            let lines = r.out.split(separator: "\n").map(String.init)
            #expect(lines[0] == "id\tphoto\tthumb")
            #expect(lines[1] == "1\t<Image 40x30 RGB>\t<Image 16x12 RGB>")
            #expect(lines[2] == "2\t<Image 20x50 RGBA>\t<Image 6x16 RGBA>")
            // JSON gives the URLs: the user's file where it is, the computed one under media/.
            r = env.run(["rows", "photos", "--json"])
            let rows = try #require(r.json as? [[String: Any]])
            let photoURL = rows[0]["photo"] as? String
            let thumbURL = rows[0]["thumb"] as? String ?? ""
            #expect(photoURL == "file://\(pics)/a.jpg")
            #expect(thumbURL.hasPrefix("file://\(env.home)/media/"))
            r = env.run(["get", "photos", "2"])
            #expect(r.out.contains("photo\t<Image 20x50 RGBA>"))
            r = env.run(["get", "photos", "2", "--json"])
            let got = try #require(r.json as? [String: Any])
            #expect(got["display"] == nil)
            #expect(((got["row"] as? [String: Any])?["photo"] as? String)?.hasSuffix("/b.png") == true)
            // A missing file names the input line and the column; nothing is stored.
            let bad = env.write("bad.jsonl", "{\"id\": 3, \"photo\": \"a.jpg\"}\n{\"id\": 4, \"photo\": \"nope.jpg\"}\n")
            r = env.run(["insert", "photos", bad], cwd: pics)
            #expect(r.code == 1)
            #expect(r.err.contains("line 2, column 'photo': file not found: '\(pics)/nope.jpg'"), "\(r.err)")
            #expect(env.run(["count", "photos"]).out.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
            // status --sizes counts the stored files: one thumbnail per row.
            r = env.run(["status", "--sizes", "--json"])
            let status = try #require(r.json as? [String: Any])
            #expect(jsonInt(status["media_files"]) == 2)
            #expect(jsonInt(status["file_cache_files"]) == 0)
        }
    }
}
