/// What `kcp_build_info` and `--version` report.
public enum BuildInfo {
    public static let version = "0.5.0"
}
