#!/usr/bin/env bash
# Run the libjointvae vs PyTorch benchmark and print the table (bench/README.md).
#
# usage: bench/run.sh [--quick] [--repeat N] [--threads "1 2"] [--configs "A B C"] [--raw FILE]
#                     [BUILD_DIR]
#   BUILD_DIR  a configured and built tree holding bench/jvae-bench
#              (default: build/bench next to this script's parent). Nothing is built here.
#   --quick    shorter measurements (about 1.5 minutes instead of about 4)
#   --repeat N measure everything N times over (default 1); the table shows the median
#   --threads  thread counts to measure (default "1 2")
#   --configs  configurations to measure (default "A B C")
#   --raw FILE keep the raw "result ..." lines in FILE (written as the run goes)
#
# Each (configuration, thread count) is measured by three processes in a row, ours,
# PyTorch, PyTorch with jemalloc, each training first and then encoding, so that the
# three see the same machine load. Threads: our model gets its `threads` option and
# OMP_NUM_THREADS = T; PyTorch gets torch.set_num_threads(T) and OMP_NUM_THREADS = T.
# Both get OPENBLAS_NUM_THREADS=1: each parallelises over its own threads and calls
# OpenBLAS inside them, and a multi-threaded OpenBLAS there oversubscribes the cores
# (PyTorch at 2 threads runs 2-3x slower with OpenBLAS threads unset or 2 here).
# Environment: OPENBLAS_CORETYPE (default Haswell); OURS_BLAS_THREADS and
# TORCH_BLAS_THREADS override the OpenBLAS thread counts (default 1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
repeat=1
thread_counts="1 2"
configs="A B C"
raw=""
build=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --repeat) shift; repeat=${1:?--repeat needs a count} ;;
        --threads) shift; thread_counts=${1:?--threads needs a list} ;;
        --configs) shift; configs=${1:?--configs needs a list} ;;
        --raw) shift; raw=${1:?--raw needs a file} ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
torch_blas_threads=${TORCH_BLAS_THREADS:-1}
# A process that outlives its limit (a hang, or a machine too busy to measure) is
# killed and its cells of the table stay empty.
if [ "$quick" = 1 ]; then
    limit=120
    timing=(--seconds 1 --warmup 0.3 --window 0.25)
    sgemm_timing=(--seconds 1 --warmup 0.2 --window 0.25)
else
    limit=300
    timing=(--seconds 3 --warmup 1 --window 0.5)
    sgemm_timing=(--seconds 3 --warmup 0.5 --window 0.5)
fi

if [ -n "$raw" ]; then
    results=$raw
    : >"$results"
else
    results=$(mktemp)
    trap 'rm -f "$results"' EXIT
fi

echo "libjointvae benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, OpenBLAS threads: ours $ours_blas_threads," \
     "torch $torch_blas_threads"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); scheduling group: $(cat /proc/self/autogroup 2>/dev/null || echo unknown)"
[ "$quick" = 1 ] && echo "(quick run: 1 s per measurement)"
[ "$repeat" -gt 1 ] && echo "($repeat rounds: every figure is the median over the rounds)"
echo

progress() { printf '  %-44s\r' "$*" >&2; }

# measure LABEL COMMAND...: run one measuring process, its result lines into $results.
measure() {
    local label=$1 status=0
    shift
    timeout "$limit" "$@" >>"$results" || status=$?
    if [ "$status" -eq 124 ]; then
        echo "run.sh: $label killed after $limit s" >&2
    elif [ "$status" -ne 0 ]; then
        echo "run.sh: $label failed with exit status $status" >&2
    fi
}

for round in $(seq "$repeat"); do
    for threads in $thread_counts; do
        progress "round $round: sgemm, $threads thread(s)"
        measure "sgemm, $threads thread(s)" env OMP_NUM_THREADS="$threads" \
            OPENBLAS_NUM_THREADS="$threads" "$bench" sgemm --threads "$threads" "${sgemm_timing[@]}"
        for config in $configs; do
            progress "round $round: config $config, $threads thread(s): ours"
            measure "ours, config $config, $threads thread(s)" env OMP_NUM_THREADS="$threads" \
                OPENBLAS_NUM_THREADS="$ours_blas_threads" \
                "$bench" train,encode --config "$config" --threads "$threads" "${timing[@]}"
            progress "round $round: config $config, $threads thread(s): torch"
            measure "torch, config $config, $threads thread(s)" env OMP_NUM_THREADS="$threads" \
                OPENBLAS_NUM_THREADS="$torch_blas_threads" \
                "$python" "$here/torch_jointvae.py" train,encode \
                --config "$config" --threads "$threads" "${timing[@]}"
            if [ "$have_jemalloc" = 1 ]; then
                progress "round $round: config $config, $threads thread(s): torch+jemalloc"
                measure "torch+jemalloc, config $config, $threads thread(s)" env \
                    OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$torch_blas_threads" \
                    LD_PRELOAD="$jemalloc" MALLOC_CONF="$jemalloc_conf" \
                    "$python" "$here/torch_jointvae.py" train,encode --config "$config" \
                    --threads "$threads" --label torch+jemalloc "${timing[@]}"
            fi
        done
    done
done
printf '%-50s\r' '' >&2

"$python" "$here/report.py" "$results"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
