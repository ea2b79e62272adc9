import Foundation
import Testing
@testable import Pixeltable
import PixeltableTestSupport

/// Whether Python with Pillow is installed (`.ci/run` installs it): the reference the resampler
/// is compared with.
let pillowAvailable: Bool = {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import PIL"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}()

@Suite struct ImageCodecTests {
    let dir = NSTemporaryDirectory() + "pxt-img-" + UUID().uuidString

    @Test func everyFormatAndModeRoundTrips() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for mode in ImageMode.allCases {
            let img = TestImages.pattern(37, 21, mode: mode)
            // PNG is lossless in every mode.
            let png = try ImageCodec.encode(img, as: .png)
            let h = try ImageCodec.probe(png)
            #expect(h.format == .png && h.width == 37 && h.height == 21 && h.mode == mode && h.isComplete)
            #expect(try ImageCodec.decode(png).pixels == img.pixels)
            // Lossless WebP keeps RGB(A) exactly (libwebp blanks the color of fully transparent
            // pixels); grayscale comes back as RGB.
            let webp = try ImageCodec.encode(img, as: .webp, quality: 0)
            let w = try ImageCodec.decode(webp)
            let wide: ImageMode = mode.hasAlpha ? .rgba : .rgb
            #expect(w.mode == wide)
            let got = w.pixels, want = ImageTransforms.convert(img, to: wide).pixels
            let differing = stride(from: 0, to: want.count, by: wide.channels).filter { i in
                (!wide.hasAlpha || want[i + 3] > 0) && got[i..<(i + wide.channels)] != want[i..<(i + wide.channels)]
            }
            #expect(differing.isEmpty, "\(differing.count) pixels differ after a lossless WebP round trip (\(mode))")
            // JPEG drops alpha and is close, not exact (chroma is subsampled 4:2:0, as Pillow does).
            let jpeg = try ImageCodec.encode(img, as: .jpeg, quality: 95)
            let j = try ImageCodec.decode(jpeg)
            let expected = ImageTransforms.convert(img, to: mode == .l || mode == .la ? .l : .rgb)
            #expect(j.mode == expected.mode && j.sourceFormat == .jpeg)
            #expect(TestImages.psnr(j, expected) > (expected.mode == .l ? 35 : 24))
        }
    }

    @Test func jpegDecodesInTheDCTDomainAtAFractionOfItsSize() throws {
        let img = TestImages.pattern(203, 101)
        let jpeg = try ImageCodec.encode(img, as: .jpeg)
        for s in [1, 2, 4, 8] {
            let d = try ImageCodec.decode(jpeg, scaleDenominator: s)
            #expect(d.width == (203 + s - 1) / s && d.height == (101 + s - 1) / s)
        }
    }

    @Test func brokenTruncatedAndForeignFilesAreErrorsNotCrashes() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let img = TestImages.pattern(64, 48)
        for format in ImageFormat.allCases {
            let path = try TestImages.write(img, as: format, to: dir, quality: 80)
            let cut = TestImages.truncate(path, keeping: 0.6, to: path + ".cut")
            #expect(try ImageCodec.probe(file: cut).isComplete == false)
            #expect(throws: ImageCodecError.self) { try ImageCodec.decode(file: cut) }
            // Every prefix of the header and the body is refused cleanly.
            let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
            for n in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
                _ = try? ImageCodec.decode(Array(bytes.prefix(n)))
            }
        }
        do {
            _ = try ImageCodec.decode(Array("just some text, not an image".utf8))
            Issue.record("text decoded as an image")
        } catch {
            #expect(error.kind == .unidentified)
            #expect(error.functionError.type == "UnidentifiedImageError")
        }
        let gif = Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 20)
        #expect(throws: ImageCodecError.self) { try ImageCodec.probe(gif) }
        // A header asking for a gigapixel image is refused before any allocation.
        var huge = [UInt8](try ImageCodec.encode(TestImages.pattern(8, 8), as: .png))
        huge[16...23] = [0, 1, 0, 0, 0, 1, 0, 0][...]
        #expect(throws: ImageCodecError.self) { try ImageCodec.decode(huge) }
    }

    @Test func transformsFollowPillow() throws {
        let img = TestImages.pattern(30, 20)
        // Rotations by multiples of 90 on a non-square image keep the size (Pillow's expand=False).
        #expect(try ImageTransforms.rotate(img, degrees: 90).width == 30)
        #expect(try ImageTransforms.rotate(img, degrees: 360).pixels == img.pixels)
        #expect(try ImageTransforms.rotate(img, degrees: 180).pixels == ImageTransforms.transpose(img, 3).pixels)
        let sq = TestImages.pattern(16, 16)
        #expect(try ImageTransforms.rotate(sq, degrees: 90).pixels == ImageTransforms.transpose(sq, 2).pixels)
        // ROTATE_90 is counter-clockwise: the top-right pixel goes to the top-left.
        let r90 = try ImageTransforms.transpose(img, 2)
        #expect(r90.width == 20 && r90.height == 30)
        #expect(try ImageTransforms.pixel(r90, x: 0, y: 0) == ImageTransforms.pixel(img, x: 29, y: 0))
        for m in 0...6 {
            let t = try ImageTransforms.transpose(img, m)
            let back = try (0...6).map { try ImageTransforms.transpose(t, $0) }
            #expect(back.contains { $0.pixels == img.pixels && $0.width == img.width })
        }
        // Crops may reach outside the image, which reads as black.
        let c = try ImageTransforms.crop(img, left: -5, top: 10, right: 10, bottom: 25)
        #expect(c.width == 15 && c.height == 15)
        #expect(try ImageTransforms.pixel(c, x: 0, y: 0) == [0, 0, 0])
        #expect(try ImageTransforms.pixel(c, x: 5, y: 0) == ImageTransforms.pixel(img, x: 0, y: 10))
        #expect(throws: FunctionError.self) { try ImageTransforms.crop(img, left: 10, top: 0, right: 5, bottom: 5) }
        // Luma uses ITU-R 601-2 weights in Pillow's fixed point.
        let one = PixelImage(width: 1, height: 1, mode: .rgb, pixels: [200, 100, 50])
        let luma: Int = (200 * 19595 + 100 * 38470 + 50 * 7471 + 0x8000) >> 16
        #expect(ImageTransforms.convert(one, to: .l).pixels == [UInt8(luma)])
        #expect(ImageTransforms.histogram(img).count == 768)
        #expect(ImageTransforms.histogram(img).reduce(0, +) == 30 * 20 * 3)
        #expect(throws: FunctionError.self) { try ImageTransforms.pixel(img, x: 30, y: 0) }
        // Thumbnail sizes keep the aspect ratio as Pillow rounds it.
        #expect(ImageTransforms.thumbnailSize(width: 4000, height: 3000, box: (256, 256))! == (256, 192))
        #expect(ImageTransforms.thumbnailSize(width: 3000, height: 4000, box: (256, 256))! == (192, 256))
        #expect(ImageTransforms.thumbnailSize(width: 100, height: 50, box: (256, 256)) == nil)
        #expect(ImageTransforms.thumbnailSize(width: 1000, height: 1, box: (10, 10))! == (10, 1))
    }

    @Test func resamplingKeepsFlatAreasFlatAndAlphaUnbled() throws {
        let flat = PixelImage(width: 40, height: 30, mode: .rgb, fill: [10, 120, 250])
        for f in ResampleFilter.allCases {
            let r = Resampler.resize(flat, width: 13, height: 7, filter: f)
            #expect(r.width == 13 && r.height == 7)
            #expect(Set(r.pixels) == [10, 120, 250])
            let up = Resampler.resize(flat, width: 81, height: 59, filter: f)
            #expect(Set(up.pixels) == [10, 120, 250])
        }
        // A transparent red half next to an opaque blue half: no red may bleed into the blue.
        var px: [UInt8] = []
        for _ in 0..<8 { for x in 0..<16 { px += x < 8 ? [255, 0, 0, 0] : [0, 0, 255, 255] } }
        let half = PixelImage(width: 16, height: 8, mode: .rgba, pixels: px)
        let r = Resampler.resize(half, width: 5, height: 3, filter: .lanczos)
        for i in 0..<(5 * 3) where r.pixels[i * 4 + 3] > 0 {
            #expect(r.pixels[i * 4] <= 1, "red bled into an opaque pixel")
        }
    }

    @Test(.enabled(if: pillowAvailable, "needs python3 with Pillow (pip install Pillow; .ci/run installs it)"))
    func resizeMatchesPillowsLanczos() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let img = TestImages.pattern(640, 427)
        let src = try TestImages.write(img, as: .png, to: dir, name: "src")
        for (w, h, filter) in [(200, 133, "LANCZOS"), (97, 311, "BICUBIC"), (1000, 700, "LANCZOS"), (64, 64, "BILINEAR")] {
            let out = dir + "/pil-\(w)x\(h)-\(filter).png"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", "-c", "import sys; from PIL import Image; Image.open(sys.argv[1]).resize((\(w), \(h)), Image.Resampling.\(filter)).save(sys.argv[2])", src, out]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            let pil = try ImageCodec.decode(file: out)
            let ours = Resampler.resize(img, width: w, height: h, filter: ResampleFilter(name: filter)!)
            let psnr = TestImages.psnr(ours, pil)
            #expect(psnr >= 35, "PSNR \(psnr) dB against Pillow's \(filter) \(w)x\(h)")
        }
    }
}
