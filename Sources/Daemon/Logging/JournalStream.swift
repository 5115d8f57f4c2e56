#if canImport(Glibc)
import Glibc
#endif

/// Whether a standard stream really goes to journald. systemd sets `JOURNAL_STREAM=<device>:<inode>` when
/// it connects a service's output to the journal, but children inherit the variable even after their
/// stderr was redirected elsewhere; so, as sd-daemon(3) prescribes, only a descriptor that is still that
/// very socket counts.
public enum JournalStream {
    /// True when `JOURNAL_STREAM` in `environment` names the device and inode of `fileDescriptor`.
    public static func isConnected(fileDescriptor: Int32 = 2, environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(fileDescriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
