#!/bin/sh
# Copies the small results of a run into docs/results/: settings.json, the metric JSON files,
# log.csv thinned to every 500th step, and the pictures named in PICTURES (default all).
# Usage: tools/results/collect.sh RUN_DIR NAME [PICTURES]
#   e.g. tools/results/collect.sh /work/results-runs/mnist-s3 mnist-s3 "samples_c0 traversals"
set -eu
run_dir=$1
name=$2
pictures=${3:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
dest=$repo/docs/results
mkdir -p "$dest"
cp "$run_dir/settings.json" "$dest/$name-settings.json"
for json in "$run_dir"/*.json; do
    case $json in */settings.json) continue ;; esac
    cp "$json" "$dest/$name-$(basename "$json")"
done
awk -F, 'NR == 1 || $1 % 500 == 0' "$run_dir/log.csv" > "$dest/$name-log.csv"
if [ -z "$pictures" ]; then
    for png in "$run_dir"/pictures/*.png; do cp "$png" "$dest/$name-$(basename "$png")"; done
else
    for picture in $pictures; do cp "$run_dir/pictures/$picture.png" "$dest/$name-$picture.png"; done
fi
ls -la "$dest" | grep -- " $name-" | awk '{ s += $5 } END { print s " bytes for '"$name"'" }'
