#!/bin/sh
# Experiment 2 of docs/results.md: JointVAE (6 continuous + discrete [3]) on dSprites with a
# compressed capacity schedule, then the FactorVAE metric, MIG and traversals (eval_dsprites.sh).
# Usage: tools/results/run_dsprites.sh RUN_DIR SEED [STEPS] [CAPACITY_STEPS] [LR]
# The programs come from $BIN (default build/results/examples). One core, low priority.
set -eu
run_dir=$1
seed=$2
steps=${3:-6500}
capacity_steps=${4:-6000}
lr=${5:-1e-3}
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$repo/build/results/examples}

start=$(date +%s)
nice -n 10 "$bin/jvae-train" --preset dsprites --out "$run_dir" --iters "$steps" \
    --cap-continuous "0,40,$capacity_steps" --cap-discrete "0,1.1,$capacity_steps" \
    --gamma-continuous 150 --gamma-discrete 150 --lr "$lr" --batch 64 --seed "$seed" \
    --threads 1 --log-every 50 --checkpoint-every 500
echo "training wall time: $(( $(date +%s) - start )) s"
"$(dirname "$0")/eval_dsprites.sh" "$run_dir"
