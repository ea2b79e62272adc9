/// The version `pxt --version` and the daemon's health report.
public enum PxtVersion {
    /// The release version of this build.
    public static let current = "0.1.0"
}
