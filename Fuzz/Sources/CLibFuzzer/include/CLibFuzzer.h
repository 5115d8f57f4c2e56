#ifndef C_LIBFUZZER_H
#define C_LIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, `-sanitize=fuzzer`): parses libFuzzer's command line and runs the
/// fuzzing loop with `callback`. The fuzz targets call it from their own `main`, because SwiftPM gives an
/// executable's `main` to the executable's module, so libFuzzer's `main` is never linked in.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
