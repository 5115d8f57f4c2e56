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
}
