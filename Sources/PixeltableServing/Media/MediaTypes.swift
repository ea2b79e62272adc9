import Foundation

/// Content types by file extension, for `/media` and file responses.
enum MediaTypes {
    static func type(forPath path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "bmp": return "image/bmp"
        case "tif", "tiff": return "image/tiff"
        case "svg": return "image/svg+xml"
        case "mp4", "m4v": return "video/mp4"
        case "webm": return "video/webm"
        case "mov": return "video/quicktime"
        case "mkv": return "video/x-matroska"
        case "avi": return "video/x-msvideo"
        case "mp3": return "audio/mpeg"
        case "wav": return "audio/wav"
        case "ogg": return "audio/ogg"
        case "flac": return "audio/flac"
        case "m4a": return "audio/mp4"
        case "pdf": return "application/pdf"
        case "txt", "md": return "text/plain; charset=utf-8"
        case "csv": return "text/csv; charset=utf-8"
        case "html", "htm": return "text/html; charset=utf-8"
        case "xhtml": return "application/xhtml+xml"
        case "xml": return "application/xml"
        case "js", "mjs": return "text/javascript"
        case "json": return "application/json"
        default: return "application/octet-stream"
        }
    }

    /// Types a browser would run or render as a page of this site: served as attachments, so
    /// that an uploaded file cannot script the service's origin.
    static func isActive(_ type: String) -> Bool {
        let t = type.split(separator: ";").first.map { $0.lowercased() } ?? ""
        return ["text/html", "image/svg+xml", "application/xhtml+xml", "application/xml", "text/xml", "text/javascript"].contains(t)
    }
}
