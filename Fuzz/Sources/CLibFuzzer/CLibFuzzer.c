// Only the declaration in include/CLibFuzzer.h; the function comes from libFuzzer (compiler-rt).
#include "CLibFuzzer.h"
