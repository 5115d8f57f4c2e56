#if canImport(Glibc)
import Glibc
#endif

/// CPU time of this whole process (all threads, user + system), from getrusage: the generator shares the
/// machine with the daemon and the broker, so its own cost is reported next to every result.
enum ProcessCPU {
    static func seconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }

    /// CPU time (user + system) of another process, from /proc/PID/stat (in clock ticks, 10 ms here);
    /// nil once it is gone. For `--cpu-of`: the daemon's cost over exactly the measured span.
    static func seconds(pid: Int32) -> Double? {
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
        guard let commEnd = bytes[..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(commEnd + 1)..<count].split(separator: UInt8(ascii: " "))
        // After the ')': state is field 0, utime field 11, stime field 12 (proc(5) fields 14 and 15).
        guard fields.count > 12, let user = Int(String(decoding: fields[11], as: UTF8.self)),
            let system = Int(String(decoding: fields[12], as: UTF8.self))
        else { return nil }
        return Double(user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
