#!/usr/bin/python3
"""Trains the official JointVAE code's MNIST model in PyTorch on our MNIST split.

A control for docs/results.md: if the official model, loss and training loop
(bench/torch_jointvae.py, rewritten line for line from Schlumberger/joint-vae)
reach the same accuracy as libjointvae on the same 7,000 digits, the gap to the
paper's 88.7 % is not in our implementation.

What the official code does, and this script with it:
  * images: the IDX digits resized 28 -> 32 with PIL's bilinear filter and
    divided by 255 (torchvision's Resize(32) + ToTensor);
  * data order: a fresh random permutation every epoch, batches of 64, the last
    batch of an epoch short (DataLoader(shuffle=True), drop_last=False);
  * Trainer: one step per batch; the capacities are a function of the step;
  * Adam, lr 5e-4.

Writes OUT/model.pt (the state dict, as the official code saves it),
OUT/specs.json (as the official code writes it) and OUT/log.csv (every
--log-every steps: the mean of the terms over those steps).

Usage: train_torch_reference.py IDX_PREFIX OUT --steps N --seed S
       [--capacity-steps 25000] [--threads 1] [--log-every 500]
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
from PIL import Image
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from torch_jointvae import VAE, Trainer  # noqa: E402


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim != 3:
        sys.exit(f"{path}: not an unsigned-byte IDX image file")
    count, rows, cols = struct.unpack(">III", data[4:16])
    body = np.frombuffer(data[16:], dtype=np.uint8)
    if body.size != count * rows * cols:
        sys.exit(f"{path}: truncated")
    return body.reshape(count, rows, cols)


def resized_images(raw, size):
    out = np.empty((raw.shape[0], 1, size, size), dtype=np.float32)
    for i, image in enumerate(raw):
        resized = Image.fromarray(image).resize((size, size), Image.BILINEAR)
        out[i, 0] = np.asarray(resized, dtype=np.float32) / 255.0
    return torch.from_numpy(out)


class LoggingTrainer(Trainer):
    """The official Trainer, also returning the terms of each step for the log."""

    def _loss_function(self, data, recon_data, latent_dist):
        num_pixels = self.model.num_pixels
        with torch.no_grad():
            self.last_recon = float(F.binary_cross_entropy(
                recon_data.view(-1, num_pixels), data.view(-1, num_pixels)) * num_pixels)
            self.last_kl_cont = float(self._kl_normal_loss(*latent_dist["cont"]))
            self.last_kl_disc = float(self._kl_multiple_discrete_loss(latent_dist["disc"]))
        return super()._loss_function(data, recon_data, latent_dist)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("idx_prefix", help="e.g. /work/results-data/train")
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--capacity-steps", type=int, default=25000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log-every", type=int, default=500)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = resized_images(read_idx_images(args.idx_prefix + "-images-idx3-ubyte.gz"), 32)
    os.makedirs(args.out, exist_ok=True)

    latent_spec = {"cont": 10, "disc": [10]}
    model = VAE(img_size=(1, 32, 32), latent_spec=latent_spec, temperature=0.67)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    trainer = LoggingTrainer(model, optimizer,
                             [0.0, 5.0, args.capacity_steps, 30.0],
                             [0.0, 5.0, args.capacity_steps, 30.0])

    log = open(os.path.join(args.out, "log.csv"), "w")
    log.write("step,loss,recon,kl_continuous,kl_discrete,seconds\n")
    sums = [0.0, 0.0, 0.0, 0.0]
    count = 0
    start = time.perf_counter()
    while trainer.num_steps < args.steps:
        order = torch.randperm(images.shape[0])
        for first in range(0, images.shape[0], 64):
            if trainer.num_steps >= args.steps:
                break
            loss = trainer.step(images[order[first:first + 64]])
            if not math.isfinite(loss):
                sys.exit(f"step {trainer.num_steps}: loss is {loss}")
            for i, value in enumerate((loss, trainer.last_recon, trainer.last_kl_cont,
                                       trainer.last_kl_disc)):
                sums[i] += value
            count += 1
            if trainer.num_steps % args.log_every == 0:
                log.write(f"{trainer.num_steps},{sums[0] / count:.6f},{sums[1] / count:.4f},"
                          f"{sums[2] / count:.4f},{sums[3] / count:.4f},"
                          f"{time.perf_counter() - start:.1f}\n")
                log.flush()
                sums = [0.0, 0.0, 0.0, 0.0]
                count = 0
    log.close()

    temporary = os.path.join(args.out, "model.pt.tmp")
    torch.save(model.state_dict(), temporary)
    os.replace(temporary, os.path.join(args.out, "model.pt"))
    temporary = os.path.join(args.out, "specs.json.tmp")
    with open(temporary, "w") as f:
        json.dump({"dataset": "mnist", "latent_spec": latent_spec,
                   "experiment_name": "torch-reference", "seed": args.seed,
                   "steps": args.steps, "torch": torch.__version__}, f)
    os.replace(temporary, os.path.join(args.out, "specs.json"))
    print(f"{args.steps} steps in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
