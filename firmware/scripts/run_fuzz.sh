#!/usr/bin/env bash
# libFuzzer runs over the pre/post-processing and tiling entry points (firmware/fuzz/edb_fuzz.c)
# and the deblur pipeline and gyro PSFs (firmware/fuzz/edb_deblur_fuzz.c)
# with ASan + UBSan. Needs clang with the libFuzzer runtime
# (Debian 12: apt-get install -y clang libclang-rt-14-dev).
#   firmware/scripts/run_fuzz.sh [SECONDS=60] [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-60}"
b="${2:-$(mktemp -d)/fuzz}"
command -v clang >/dev/null || { echo "clang not found: apt-get install -y clang libclang-rt-14-dev" >&2; exit 2; }
CC=clang cmake -S "$here" -B "$b" -DCMAKE_BUILD_TYPE=Debug -DEDB_FUZZ=ON >/dev/null
cmake --build "$b" -j2 --target edb_fuzz edb_deblur_fuzz >/dev/null
mkdir -p "$b/corpus"
# small seeds: valid RGB / grey / NV12 contracts, so the run starts inside the interesting paths
printf '\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\4\0\0\0\2\0\0\0\1\0\0\0\0\0\0\0\0' > "$b/corpus/seed_rgb"
head -c 512 /dev/urandom > "$b/corpus/seed_random" 2>/dev/null || true
"$b/edb_fuzz" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=1024 -print_final_stats=1 "$b/corpus" 2>&1 | tail -n 25
mkdir -p "$b/corpus_deblur"
head -c 2048 /dev/urandom > "$b/corpus_deblur/seed_random" 2>/dev/null || true
"$b/edb_deblur_fuzz" -max_total_time="$secs" -max_len=16384 -rss_limit_mb=2048 -print_final_stats=1 "$b/corpus_deblur" 2>&1 | tail -n 25
echo "fuzz: ${secs}s each (edb_fuzz, edb_deblur_fuzz) without a crash or sanitizer report"
