#!/bin/sh
# Splits the 8,004 labelled MNIST digits of /work/shared/data/mnist-8k into
#   OUT/train-{images-idx3,labels-idx1}-ubyte.gz   the first 7,000 digits
#   OUT/test-{images-idx3,labels-idx1}-ubyte.gz    the last 1,004 digits
# so a model can be trained on one part and scored on the other.
# Usage: tools/results/split_mnist.sh [SOURCE_PREFIX] [OUT_DIR] [TRAIN_COUNT]
set -eu
source_prefix=${1:-/work/shared/data/mnist-8k/train}
out_dir=${2:-/work/results-data}
train_count=${3:-7000}
mkdir -p "$out_dir"
/usr/bin/python3 - "$source_prefix" "$out_dir" "$train_count" <<'PY'
import gzip, os, struct, sys

source, out_dir, train_count = sys.argv[1], sys.argv[2], int(sys.argv[3])

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    item = len(body) // dims[0]
    if item * dims[0] != len(body):
        sys.exit(f"{path}: truncated")
    return ndim, dims, item, body

def write_idx(path, ndim, dims, item, body, first, last):
    count = last - first
    header = struct.pack(">HBB", 0, 0x08, ndim) + struct.pack(">" + "I" * ndim, count, *dims[1:])
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        f.write(header + body[first * item:last * item])
    os.replace(tmp, path)

images = read_idx(source + "-images-idx3-ubyte.gz")
labels = read_idx(source + "-labels-idx1-ubyte.gz")
total = images[1][0]
if labels[1][0] != total or not 0 < train_count < total:
    sys.exit(f"{total} images, {labels[1][0]} labels, train count {train_count}")
for name, first, last in (("train", 0, train_count), ("test", train_count, total)):
    for kind, idx in (("images-idx3", images), ("labels-idx1", labels)):
        write_idx(os.path.join(out_dir, f"{name}-{kind}-ubyte.gz"), *idx, first, last)
    counts = [0] * 10
    for b in labels[3][first:last]:
        counts[b] += 1
    print(f"{out_dir}/{name}: {last - first} digits, per class {counts}")
PY
