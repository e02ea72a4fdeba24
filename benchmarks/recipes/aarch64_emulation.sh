#!/usr/bin/env bash
# #22: the Raspberry Pi runner on an aarch64 CPU, by emulation. Builds an arm64 Debian root (debootstrap
# --foreign, packages unpacked with dpkg -x; no chroot needed), installs aarch64 wheels of ai-edge-litert,
# numpy and pillow into it with its own pip, then runs `benchmarks device-package`'s runner on the shipped
# bundles under qemu-aarch64-static, and the same runner on this host, over the same crops, and compares the
# texts read. Latency under emulation is not a device number (the result says so). Needs root for apt.
#   BUNDLES (default: the shipped TFLite bundles), IMAGES (default: ../shared/data/plates-real-dev).
source "$(dirname "$0")/setup.sh"
ROOT=${ARM64_ROOT:-/work/arm64root}
SITE=${ARM64_SITE:-/work/arm64site}
WHEELS=$R/aarch64/wheels
OUT=$R/aarch64
BUNDLES=${BUNDLES:-"models/student/tflite-int8 models/student/tflite-fp32"}
IMAGES=${IMAGES:-../shared/data/plates-real-dev}
if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null; then
  step apt-get update -q && step apt-get install -y -q qemu-user-static debootstrap
fi
if [ ! -x $ROOT/usr/bin/python3.11 ]; then
  step debootstrap --foreign --arch=arm64 --variant=minbase --include=python3,python3-pip bookworm $ROOT \
    http://deb.debian.org/debian
  for deb in $ROOT/var/cache/apt/archives/*.deb; do dpkg -x $deb $ROOT; done
fi
PY=(qemu-aarch64-static -L $ROOT $ROOT/usr/bin/python3.11)
if [ ! -d $SITE/ai_edge_litert ]; then
  # ai-edge-litert 1.4.0 is the newest aarch64 wheel for CPython 3.11 (Debian bookworm's) that pip finds
  # here; the host runs 2.x, so this checks the int8 kernels of an older LiteRT (both versions are recorded)
  step $B/pip download -q --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64 --only-binary=:all: \
    --python-version 3.11 --implementation cp "ai-edge-litert==1.4.0" "numpy<2.3" pillow -d $WHEELS
  step "${PY[@]}" -m pip install -q --no-index --find-links $WHEELS --target $SITE ai-edge-litert "numpy<2.3" pillow
fi
mkdir -p $OUT
step $B/benchmarks device-package $BUNDLES --out $OUT/plates-bench.tar.gz
rm -rf $OUT/plates-bench && tar xzf $OUT/plates-bench.tar.gz -C $OUT
RUN=(--images $(realpath $IMAGES) --threads 1 --runs 20 --warmup 2 --min-seconds 0 --rounds 1)
HOST_PY=$(pwd)/$B/python
(cd $OUT/plates-bench && step $HOST_PY runner.py bundles/* "${RUN[@]}" --out ../host.json)
(cd $OUT/plates-bench && PYTHONPATH=$SITE step "${PY[@]}" runner.py bundles/* "${RUN[@]}" --emulated --out ../aarch64.json)
step $B/benchmarks compare-reads $OUT/aarch64.json $OUT/host.json --out benchmarks/results/aarch64_emulation
