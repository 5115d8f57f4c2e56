import CLibFuzzer

#if canImport(Glibc)
import Glibc
#endif

// Entry point: libFuzzer's driver with this target's test function (the one also exported as
// LLVMFuzzerTestOneInput). Every libFuzzer option works: `fuzz-message -help=1`.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzMessage))
