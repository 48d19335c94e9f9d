#!/bin/sh
# Experiment 1 of docs/results.md: JointVAE on 7,000 MNIST digits, the digit type read from the
# discrete latent and scored on the 1,004 held-out digits (and on the training part).
# Usage: tools/results/run_mnist.sh RUN_DIR SEED [STEPS] [CAPACITY_STEPS]
# Needs the split written by tools/results/split_mnist.sh into $DATA (default /work/results-data)
# and the programs in $BIN (default build/results/examples). One core, low priority.
set -eu
run_dir=$1
seed=$2
steps=${3:-8000}
capacity_steps=${4:-6000}
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$repo/build/results/examples}
data=${DATA:-/work/results-data}

start=$(date +%s)
nice -n 10 "$bin/jvae-train" --preset mnist --data "$data/train" --out "$run_dir" \
    --iters "$steps" --cap-continuous "0,5,$capacity_steps" --cap-discrete "0,5,$capacity_steps" \
    --gamma-continuous 30 --gamma-discrete 30 --lr 5e-4 --batch 64 --seed "$seed" \
    --threads 1 --log-every 50 --checkpoint-every 1000
echo "training wall time: $(( $(date +%s) - start )) s"

"$repo/tools/results/score_mnist.sh" "$run_dir/model.safetensors" "$run_dir"
mkdir -p "$run_dir/pictures"
nice -n 10 "$bin/jvae-traverse" --model "$run_dir/model.safetensors" --out "$run_dir/pictures" \
    --data "$data/test" --log "$run_dir/log.csv" --pictures all --scale 2 --seed 1
cat "$run_dir/accuracy-test.txt"
