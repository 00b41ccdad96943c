#!/usr/bin/env bash
# Build firmware/ with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, and clang when
# installed) and run the self-test and a 720p bench frame under them. Exit 0 = clean.
#   firmware/scripts/run_sanitizers.sh [BUILD_ROOT]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="${1:-$(mktemp -d)}"
compilers=(gcc)
command -v clang >/dev/null && compilers+=(clang)
for cc in "${compilers[@]}"; do
  b="$root/san-$cc"
  CC="$cc" cmake -S "$here" -B "$b" -DCMAKE_BUILD_TYPE=Debug -DEDB_SANITIZE=ON >/dev/null
  cmake --build "$b" -j2 --target edb_selftest edb_deblur_selftest edb_bench >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  "$b/edb_selftest"
  "$b/edb_deblur_selftest"
  "$b/edb_bench" 1280 720 nv12 f32 nchw 256 32 1 >/dev/null
  "$b/edb_bench" 641 359 rgb i8 nhwc 64 8 1 >/dev/null
  "$b/edb_bench" 333 101 gray f32 nhwc 32 15 1 >/dev/null
  echo "sanitizers ($cc, ASan+UBSan): clean"
done
