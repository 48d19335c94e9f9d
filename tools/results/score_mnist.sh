#!/bin/sh
# Scores one MNIST model of docs/results.md: the digit type read from the discrete latent on the
# held-out and the training digits (Hungarian and majority, JSON and text), and the per-unit KL
# on the training digits, into OUT_DIR.
# Usage: tools/results/score_mnist.sh MODEL OUT_DIR   ($DATA and $BIN as in run_mnist.sh)
set -eu
model=$1
out=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN:-$repo/build/results/examples}
data=${DATA:-/work/results-data}

for part in test train; do
    nice -n 10 "$bin/jvae-eval" accuracy --model "$model" --data "$data/$part" --json \
        > "$out/accuracy-$part.json"
    nice -n 10 "$bin/jvae-eval" accuracy --model "$model" --data "$data/$part" \
        > "$out/accuracy-$part.txt"
done
nice -n 10 "$bin/jvae-eval" kl --model "$model" --data "$data/train" > "$out/kl.txt"
