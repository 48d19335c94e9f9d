#!/bin/sh
# Experiment 1 of docs/results.md at several lengths of one run: trains RUN_DIR to each
# STEPS in turn (--resume continues the run exactly), and after each stage scores the discrete
# latent on the held-out and the training digits into RUN_DIR/stage-STEPS/.
# Usage: tools/results/run_mnist_stages.sh RUN_DIR SEED CAPACITY_STEPS STEPS...
# Same data, programs and settings as tools/results/run_mnist.sh ($DATA, $BIN).
set -eu
run_dir=$1
seed=$2
capacity_steps=$3
shift 3
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$repo/build/results/examples}
data=${DATA:-/work/results-data}

first=1
for steps in "$@"; do
    start=$(date +%s)
    if [ "$first" = 1 ]; then
        nice -n 10 "$bin/jvae-train" --preset mnist --data "$data/train" --out "$run_dir" \
            --iters "$steps" --cap-continuous "0,5,$capacity_steps" \
            --cap-discrete "0,5,$capacity_steps" --gamma-continuous 30 --gamma-discrete 30 \
            --lr 5e-4 --batch 64 --seed "$seed" --threads 1 --log-every 50 \
            --checkpoint-every 1000
        first=0
    else
        nice -n 10 "$bin/jvae-train" --resume "$run_dir" --iters "$steps"
    fi
    stage="$run_dir/stage-$steps"
    mkdir -p "$stage"
    echo "training wall time to step $steps: $(( $(date +%s) - start )) s" > "$stage/time.txt"
    cp "$run_dir/model.safetensors" "$stage/"
    "$repo/tools/results/score_mnist.sh" "$stage/model.safetensors" "$stage"
    head -n 3 "$stage/accuracy-test.txt"
done
mkdir -p "$run_dir/pictures"
nice -n 10 "$bin/jvae-traverse" --model "$run_dir/model.safetensors" --out "$run_dir/pictures" \
    --data "$data/test" --log "$run_dir/log.csv" --pictures all --scale 2 --seed 1
