#!/usr/bin/env bash
# Emulated Raspberry Pi (64-bit Raspberry Pi OS = Debian bookworm arm64) run of the edge runtime.
#
# 1. debootstrap a bookworm arm64 root (first stage; the .debs are unpacked with dpkg-deb so
#    no binfmt_misc registration is needed: containers often cannot mount it);
# 2. run the root's own aarch64 python3 under qemu-aarch64-static (-L ROOT) and pip-install the
#    runtime (numpy, pillow, ai-edge-litert's aarch64 wheel) into ROOT/opt/site;
# 3. edge-bench the INT8 TFLite model there (in-process rows: --no-isolate, since exec'ing a
#    child aarch64 process also needs binfmt), and restore the shipped eval set;
# 4. compare the arm64 outputs with the same restore on x86: they must agree within
#    quantization tolerance (a couple of output quantization steps).
#
# Slow (emulation is 10-50x slower) and needs root + network: not for CI.
# Usage: sudo scripts/pi_arm64_bench.sh [ARTIFACT.tflite] [WORKDIR]
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
ARTIFACT="${1:-$REPO/build/bench-artifacts/mnv2unet_s_denoise.tflite-int8.tflite}"
WORK="${2:-$REPO/build/pi-arm64}"
ROOT="$WORK/root"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
HOST_PY="${HOST_PY:-$REPO/.venv/bin/python}"
PKGS="python3,python3-pip,python3-venv,libstdc++6,zlib1g,libjpeg62-turbo,libpng16-16"

log() { printf '\n== %s: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

[ -f "$ARTIFACT" ] || { echo "artifact not found: $ARTIFACT (run benchmarks/runtime_bench_report.py first)" >&2; exit 2; }
command -v debootstrap >/dev/null && command -v qemu-aarch64-static >/dev/null || {
  log "installing debootstrap and qemu-user-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap qemu-user-static
}
mkdir -p "$WORK"

if [ ! -x "$ROOT/usr/bin/python3" ]; then
  log "debootstrap --foreign bookworm arm64 into $ROOT"
  debootstrap --foreign --arch=arm64 --variant=minbase --include="$PKGS" bookworm "$ROOT" "$MIRROR"
  log "unpacking $(ls "$ROOT"/var/cache/apt/archives/*.deb | wc -l) packages with dpkg-deb"
  for deb in "$ROOT"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
fi

SITE="$ROOT/opt/site"
# qemu-user 7.2 shows the host's x86 /proc/cpuinfo to the guest, and LiteRT's CPU detection
# (cpuinfo, used by XNNPACK and ruy) segfaults on it. Each emulated command therefore runs in
# its own mount namespace with a Raspberry Pi 5 (Cortex-A76) /proc/cpuinfo bind-mounted.
CPUINFO="$WORK/cpuinfo-pi5"
FEATURES="${PI_CPU_FEATURES:-fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp}"
for n in 0 1 2 3; do
  printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\n' "$n" "$FEATURES"
done > "$CPUINFO"
# PYTHONPATH only for the emulated interpreter: the host python must not see aarch64 wheels
# QEMU_CPU: emulate the Pi 5's Cortex-A76. With qemu's default "max" CPU, XNNPACK picks kernels
# for newer features and its INT8 output was off by up to 122 of 255 levels (builtin kernels
# were fine); with cortex-a76 it is identical to x86 XNNPACK.
QEMU_CPU="${QEMU_CPU:-cortex-a76}"
PY=(unshare -m sh -c 'mount --bind "$0" /proc/cpuinfo && exec "$@"' "$CPUINFO"
    env "PYTHONPATH=$SITE:$REPO" PYTHONDONTWRITEBYTECODE=1 "QEMU_CPU=$QEMU_CPU" qemu-aarch64-static -L "$ROOT" "$ROOT/usr/bin/python3")
log "arm64 python (QEMU_CPU=$QEMU_CPU): $("${PY[@]}" -c 'import platform,sys; print(platform.machine(), sys.version.split()[0])')"

if [ ! -d "$SITE/ai_edge_litert" ]; then
  log "pip install numpy pillow ai-edge-litert (aarch64 wheels) into $SITE"
  "${PY[@]}" -m pip install --quiet --no-compile --target "$SITE" "numpy>=1.24" "pillow>=10" "ai-edge-litert>=1.2"
fi

OUT="$WORK/out"; mkdir -p "$OUT"
RESTORE='
import sys, numpy as np
from edgedeblur.runtime import load
from edgedeblur.bench.evalset import load_evalset
outs = {}
for delegate in ("xnnpack", "none"):  # XNNPACK (default) and LiteRT builtin kernels
    r = load(sys.argv[1], threads=1, delegate=delegate)
    task = "denoise" if r.manifest.data["model"]["task"] == "denoise" else "deblur"
    for name, deg, _ in load_evalset(task):
        outs[f"{delegate}/{name}"] = r.restore(deg)
    print(r.info)
np.savez(sys.argv[2], **outs)
'
log "restore the eval set on x86 ($HOST_PY)"
"$HOST_PY" -c "$RESTORE" "$ARTIFACT" "$OUT/x86.npz"
log "restore the eval set on emulated arm64"
time "${PY[@]}" -c "$RESTORE" "$ARTIFACT" "$OUT/arm64.npz"

log "edge-bench on emulated arm64 (tile latency + accuracy; latency is emulation, not a Pi)"
time "${PY[@]}" -m edgedeblur.cli.bench "$ARTIFACT" --threads 1 --runs 3 --warmup 1 --frames none \
  --no-isolate --label "qemu-aarch64 Cortex-A76 (Raspberry Pi 5 CPU) emulated on x86" \
  -o "$OUT/arm64-emulated.jsonl" || true

log "compare arm64 vs x86 outputs"
"$HOST_PY" - "$OUT/x86.npz" "$OUT/arm64.npz" <<'PYEOF'
import json, sys, numpy as np
# int8 kernels of different implementations round differently: XNNPACK vs builtin kernels differ
# by up to 3 of 255 levels on x86 for mnv2unet_s_denoise int8, so 4 levels is the tolerance.
TOL = 4
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
summary = {}
for key in a.files:
    d = np.abs(a[key].astype(int) - b[key].astype(int))
    kernels = key.split("/")[0]
    summary[kernels] = max(summary.get(kernels, 0), int(d.max()))
    print(f"{key}: max |x86 - arm64| = {d.max()} levels, {100 * (d > 0).mean():.1f}% of values differ")
for kernels in ("xnnpack", "none"):
    ref = max(int(np.abs(a[f"{kernels}/{k.split('/')[1]}"].astype(int) - a[f"xnnpack/{k.split('/')[1]}"]).max())
              for k in a.files if k.startswith("none/"))
    print(f"x86 {kernels} vs x86 xnnpack: {ref} levels")
result = {k: {"max_abs_diff_levels": v, "passed": v <= TOL} for k, v in summary.items()}
print(json.dumps({"tolerance_levels": TOL, **result}))
sys.exit(0 if all(r["passed"] for r in result.values()) else 1)
PYEOF
