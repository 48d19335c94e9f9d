#!/bin/sh
# Scores a dSprites model of docs/results.md: FactorVAE metric (full "dlib" and "paper" presets),
# MIG (10,000 images), mean KL per unit, and the pictures. Writes RUN_DIR/*.json and *.txt.
# Usage: tools/results/eval_dsprites.sh RUN_DIR [MODEL] [METRICS]
#   MODEL defaults to RUN_DIR/model.safetensors; METRICS is a list out of
#   "dlib paper mig kl pictures" (default all of them).
# FACTORVAE_OPTIONS (default empty: the full preset) is added to both factorvae commands, e.g.
# "--variance-images 10000" to shrink the paper preset's variance pass; say so with the number.
# The programs come from $BIN (default build/results/examples). One core, low priority.
set -eu
run_dir=$1
model=${2:-$run_dir/model.safetensors}
metrics=${3:-dlib paper mig kl pictures}
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$repo/build/results/examples}

timed() { # NAME COMMAND...: runs COMMAND, output to RUN_DIR/NAME.json, wall time to NAME.time
    name=$1
    shift
    start=$(date +%s)
    nice -n 10 "$@" > "$run_dir/$name.json"
    echo "$(( $(date +%s) - start ))" > "$run_dir/$name.time"
    echo "$name ($(cat "$run_dir/$name.time") s): $(cat "$run_dir/$name.json")"
}

for metric in $metrics; do
    case $metric in
    dlib | paper)
        timed "factorvae-$metric" "$bin/jvae-eval" factorvae --model "$model" --preset "$metric" \
            --seed 0 ${FACTORVAE_OPTIONS:-} --json ;;
    mig)
        timed mig "$bin/jvae-eval" mig --model "$model" --images 10000 --seed 0 --json ;;
    kl)
        nice -n 10 "$bin/jvae-eval" kl --model "$model" --dsprites > "$run_dir/kl.txt"
        cat "$run_dir/kl.txt" ;;
    pictures)
        mkdir -p "$run_dir/pictures"
        nice -n 10 "$bin/jvae-traverse" --model "$model" --out "$run_dir/pictures" --dsprites \
            --log "$run_dir/log.csv" --pictures all --seed 1 ;;
    *)
        echo "unknown metric $metric" >&2
        exit 2 ;;
    esac
done
