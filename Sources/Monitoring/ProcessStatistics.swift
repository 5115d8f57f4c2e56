import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` figures, read from procfs at scrape time (the names Prometheus' own
/// client libraries use, so existing dashboards and alerts apply).
public struct ProcessStatistics: Sendable, Equatable {
    public var residentMemoryBytes: Int
    public var virtualMemoryBytes: Int
    public var cpuSeconds: Double
    public var startTimeSeconds: Double
    public var openFileDescriptors: Int
    public var maxFileDescriptors: Int
    public var threads: Int

    /// nil where procfs is not available.
    public static func current() -> ProcessStatistics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let closing = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces), numbered as in proc(5) from field 3.
        let fields = stat[stat.index(after: closing)...].split(separator: " ")
        func field(_ number: Int) -> Double { Double(fields[number - 3]) ?? 0 }
        guard fields.count >= 22 else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return ProcessStatistics(
            residentMemoryBytes: Int(field(24) * pageSize),
            virtualMemoryBytes: Int(field(23)),
            cpuSeconds: (field(14) + field(15)) / ticks,
            startTimeSeconds: Self.bootTime() + field(22) / ticks,
            openFileDescriptors: Self.countOpenFileDescriptors(),
            maxFileDescriptors: Int(clamping: limit.rlim_cur),
            threads: Int(field(20))
        )
    }

    private static func bootTime() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return 0 }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6)) ?? 0
        }
        return 0
    }

    private static func countOpenFileDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != 0x2E { count += 1 }  // not "." or ".."
        }
        return count - 1  // the descriptor reading the directory
    }
}
