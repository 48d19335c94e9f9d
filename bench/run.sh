#!/usr/bin/env bash
# Run the libjointvae vs PyTorch benchmark and print the table (bench/README.md).
#
# usage: bench/run.sh [--quick] [--raw FILE] [BUILD_DIR]
#   BUILD_DIR  a configured and built tree holding bench/jvae-bench
#              (default: build/bench next to this script's parent). Nothing is built here.
#   --quick    shorter measurements (about 1.5 minutes instead of about 6)
#   --raw FILE also keep the raw "result ..." lines in FILE
#
# Each (configuration, thread count) is measured by three processes in a row, ours,
# PyTorch, PyTorch with jemalloc, each training first and then encoding, so that the
# three see the same machine load. Environment: OPENBLAS_CORETYPE (default Haswell);
# OURS_BLAS_THREADS overrides OpenBLAS's thread count for our model (default 1: our
# model's `threads` option runs the conv kernels on OpenMP threads and wants a
# single-threaded OpenBLAS inside them, see lib/nn/nn.h).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
raw=""
build=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --raw) shift; raw=${1:?--raw needs a file} ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) build=$1 ;;
    esac
    shift
done
build=${build:-$here/../build/bench}
bench=$build/bench/jvae-bench
python=/usr/bin/python3
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
jemalloc_conf=oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1

if [ ! -x "$bench" ]; then
    echo "run.sh: $bench not found; build it first:" >&2
    echo "  cmake -S $here/.. -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j2 --target jvae-bench" >&2
    exit 1
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "run.sh: $python cannot import torch (Debian package python3-torch)" >&2
    exit 1
fi
have_jemalloc=1
if [ ! -r "$jemalloc" ]; then
    echo "run.sh: $jemalloc missing (Debian package libjemalloc2): no torch+jemalloc column" >&2
    have_jemalloc=0
fi

export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
ours_blas_threads=${OURS_BLAS_THREADS:-1}
if [ "$quick" = 1 ]; then
    timing=(--seconds 1 --warmup 0.3 --window 0.25)
    sgemm_timing=(--seconds 1 --warmup 0.2 --window 0.25)
else
    timing=(--seconds 3 --warmup 1 --window 0.5)
    sgemm_timing=(--seconds 3 --warmup 0.5 --window 0.5)
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo "libjointvae benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, OpenBLAS threads inside our model: $ours_blas_threads"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$quick" = 1 ] && echo "(quick run: 1 s per measurement)"
echo

progress() { printf '  %-44s\r' "$*" >&2; }

for threads in 1 2; do
    progress "sgemm, $threads thread(s)"
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
        "$bench" sgemm --threads "$threads" "${sgemm_timing[@]}" >>"$results"
    for config in A B C; do
        progress "config $config, $threads thread(s): ours"
        OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$ours_blas_threads \
            "$bench" train,encode --config "$config" --threads "$threads" "${timing[@]}" \
            >>"$results"
        progress "config $config, $threads thread(s): torch"
        OMP_NUM_THREADS=$threads "$python" "$here/torch_jointvae.py" train,encode \
            --config "$config" --threads "$threads" "${timing[@]}" >>"$results"
        if [ "$have_jemalloc" = 1 ]; then
            progress "config $config, $threads thread(s): torch+jemalloc"
            OMP_NUM_THREADS=$threads LD_PRELOAD=$jemalloc MALLOC_CONF=$jemalloc_conf \
                "$python" "$here/torch_jointvae.py" train,encode --config "$config" \
                --threads "$threads" --label torch+jemalloc "${timing[@]}" >>"$results"
        fi
    done
done
printf '%-50s\r' '' >&2

"$python" "$here/report.py" "$results"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$raw" ] && cp "$results" "$raw"
exit 0
