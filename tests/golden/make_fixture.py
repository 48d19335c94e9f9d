#!/usr/bin/python3
"""Write the golden fixture of tests/test_model_golden.c from PyTorch.

Run by hand with Debian's Python (python3-torch, python3-numpy); not run by CI:
    /usr/bin/python3 tests/golden/make_fixture.py tests/golden/jointvae_1x32x32.bin

It rebuilds the official JointVAE network (Schlumberger/joint-vae,
jointvae/models.py, as described in docs/model.md) and its training loss
(jointvae/training.py) with the noise passed in, for a 1x32x32 model with 4
continuous latents and one discrete variable of 3 categories (hidden 256,
batch 4), and records:
  - per parameter tensor: the state-dict name and shape, PyTorch's init bound
    1/sqrt(fan_in), and a checksum of the weights used;
  - the images, the Gaussian noise eps and the uniforms u of six forward passes;
  - the encoder outputs, the sampled latent, the reconstruction and every loss
    term of the first forward, and the per-unit KL;
  - every parameter gradient of the first backward (of total / (H·W), as the
    official code backpropagates): whole tensors up to 4096 values; for larger
    ones 512 sampled entries, the L2 norm and 8 projections on pseudo-random
    vectors, which together cover every entry;
  - the total loss of each of the six forwards around 5 Adam steps (lr 5e-4,
    betas 0.9/0.999, eps 1e-8), and projections of each tensor's change after
    the 5 steps.

The weights are not stored: both sides generate them from a counter-based hash
(splitmix64's finaliser) so the fixture stays small; the checksums prove the C
side made the same ones. The projection vectors come from the same hash.

File format (little-endian), version 1:
  "JVAEGOLD", u32 version, u32 record count, then records of
  u16 name length, name (ASCII), u8 dtype (1 float32, 2 float64, 3 int64),
  u8 ndim (1..4), ndim × i64 extents, the values.
"""
import struct
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

EPS = 1e-12
FORMAT_VERSION = 1
CHANNELS, SIDE, N_CONT, DISC, HIDDEN, BATCH = 1, 32, 4, [3], 256, 4
TEMPERATURE = np.float32(0.67)
ADAM_STEPS = 5
FULL_LIMIT = 4096       # gradients of tensors up to this size are stored whole
SAMPLED = 512           # entries stored of larger gradients
PROJECTIONS = 8         # projections stored of larger gradients
DELTA_PROJECTIONS = 4   # projections of each tensor's change after Adam
# Capacities (C_min, C_max, iterations) of the official trainer, step t = 1..6.
CONT_CAPACITY = (0.0, 5.0, 25000)
DISC_CAPACITY = (0.0, 1.5, 5)
GAMMA = 30.0


# ------------------------------------------------------------------ the hash
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix64(x):
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def unit(stream, count):
    """count doubles in [0, 1): (mix64((stream << 40) ^ i) >> 11) · 2^-53."""
    i = np.arange(count, dtype=np.uint64)
    key = (np.uint64(stream) << np.uint64(40)) ^ i
    return (mix64(key) >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def weight_values(tensor_index, bound, count):
    """Weights of tensor j: float32(bound · (2·unit(1000 + j, i) − 1)), rounded once."""
    return (bound * (2.0 * unit(1000 + tensor_index, count) - 1.0)).astype(np.float32)


def projection_vector(tensor_index, k, count):
    return 2.0 * unit(5000 + 16 * tensor_index + k, count) - 1.0


# ------------------------------------------------------------------ the model
class VAE(nn.Module):
    """The official VAE (32x32 branch), with the noise of training mode passed in."""

    def __init__(self):
        super().__init__()
        self.img_to_features = nn.Sequential(
            nn.Conv2d(CHANNELS, 32, (4, 4), stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, (4, 4), stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, (4, 4), stride=2, padding=1), nn.ReLU())
        self.features_to_hidden = nn.Sequential(nn.Linear(64 * 4 * 4, HIDDEN), nn.ReLU())
        self.fc_mean = nn.Linear(HIDDEN, N_CONT)
        self.fc_log_var = nn.Linear(HIDDEN, N_CONT)
        self.fc_alphas = nn.ModuleList([nn.Linear(HIDDEN, k) for k in DISC])
        latent_dim = N_CONT + sum(DISC)
        self.latent_to_features = nn.Sequential(
            nn.Linear(latent_dim, HIDDEN), nn.ReLU(),
            nn.Linear(HIDDEN, 64 * 4 * 4), nn.ReLU())
        self.features_to_img = nn.Sequential(
            nn.ConvTranspose2d(64, 32, (4, 4), stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 32, (4, 4), stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, CHANNELS, (4, 4), stride=2, padding=1), nn.Sigmoid())

    def encode(self, x):
        hidden = self.features_to_hidden(self.img_to_features(x).view(x.size(0), -1))
        alphas = [F.softmax(fc(hidden), dim=1) for fc in self.fc_alphas]
        return self.fc_mean(hidden), self.fc_log_var(hidden), alphas

    def forward(self, x, eps, unif):
        mean, logvar, alphas = self.encode(x)
        parts = [mean + torch.exp(0.5 * logvar) * eps]
        start = 0
        for alpha in alphas:
            u = unif[:, start:start + alpha.size(1)]
            start += alpha.size(1)
            gumbel = -torch.log(-torch.log(u + EPS) + EPS)
            logit = (torch.log(alpha + EPS) + gumbel) / float(TEMPERATURE)
            parts.append(F.softmax(logit, dim=1))
        latent = torch.cat(parts, dim=1)
        features = self.latent_to_features(latent)
        return self.features_to_img(features.view(-1, 64, 4, 4)), mean, logvar, alphas, latent


def capacity(spec, step):
    c_min, c_max, iterations = spec
    return min((c_max - c_min) * step / float(iterations) + c_min, c_max)


def loss_terms(model, data, recon, mean, logvar, alphas, step):
    """training.py's _loss_function: returns (total / num_pixels, terms)."""
    num_pixels = SIDE * SIDE
    recon_loss = F.binary_cross_entropy(recon.view(-1, num_pixels),
                                        data.view(-1, num_pixels)) * num_pixels
    kl_values = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp())
    kl_units = torch.mean(kl_values, dim=0)
    kl_cont = torch.sum(kl_units)
    cap_cont = capacity(CONT_CAPACITY, step)
    cont_term = GAMMA * torch.abs(cap_cont - kl_cont)
    disc_units = [np.log(a.size(-1)) + torch.mean(torch.sum(a * torch.log(a + EPS), dim=1))
                  for a in alphas]
    kl_disc = torch.sum(torch.stack(disc_units))
    cap_disc = min(capacity(DISC_CAPACITY, step), sum(float(np.log(k)) for k in DISC))
    disc_term = GAMMA * torch.abs(cap_disc - kl_disc)
    total = recon_loss + cont_term + disc_term
    terms = [recon_loss.item(), kl_cont.item(), kl_disc.item(), cap_cont, cap_disc,
             cont_term.item(), disc_term.item(), total.item()]
    units = [u.item() for u in kl_units] + [u.item() for u in disc_units]
    return total / num_pixels, terms, units


# ------------------------------------------------------------------ the file
class Writer:
    DTYPES = {np.float32: 1, np.float64: 2, np.int64: 3}

    def __init__(self):
        self.records = []

    def add(self, name, values, dtype):
        values = np.ascontiguousarray(np.asarray(values, dtype=dtype))
        if values.ndim == 0:
            values = values.reshape(1)
        assert 1 <= values.ndim <= 4
        header = struct.pack("<H", len(name)) + name.encode("ascii")
        header += struct.pack("<BB", self.DTYPES[dtype], values.ndim)
        header += struct.pack("<%dq" % values.ndim, *values.shape)
        self.records.append(header + values.astype(values.dtype.newbyteorder("<")).tobytes())

    def write(self, path):
        with open(path, "wb") as f:
            f.write(b"JVAEGOLD" + struct.pack("<II", FORMAT_VERSION, len(self.records)))
            for record in self.records:
                f.write(record)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "jointvae_1x32x32.bin"
    torch.manual_seed(2018)
    model = VAE()
    out = Writer()
    out.add("channels", CHANNELS, np.int64)
    out.add("side", SIDE, np.int64)
    out.add("n_continuous", N_CONT, np.int64)
    out.add("discrete_sizes", DISC, np.int64)
    out.add("hidden", HIDDEN, np.int64)
    out.add("batch", BATCH, np.int64)
    out.add("adam_steps", ADAM_STEPS, np.int64)
    out.add("temperature", float(TEMPERATURE), np.float64)
    out.add("gamma", GAMMA, np.float64)

    # Weights from the hash, bounds from PyTorch's own fan-in rule.
    state = model.state_dict()
    names = list(state.keys())
    initial = {}
    with torch.no_grad():
        for j, name in enumerate(names):
            module_weight = state[name.rsplit(".", 1)[0] + ".weight"]
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module_weight)
            bound = 1.0 / np.sqrt(fan_in)
            values = weight_values(j, bound, state[name].numel())
            state[name].copy_(torch.from_numpy(values).view_as(state[name]))
            initial[name] = values.astype(np.float64)
            out.add("shape:" + name, list(state[name].shape), np.int64)
            out.add("bound:" + name, bound, np.float64)
            out.add("checksum:" + name,
                    [values.astype(np.float64).sum(), np.square(values.astype(np.float64)).sum()],
                    np.float64)

    # Inputs: half the pixels binary (like dSprites), half grey levels; six
    # forwards' noise.
    generator = torch.Generator().manual_seed(7)
    grey = torch.rand(BATCH, CHANNELS, SIDE, SIDE, generator=generator)
    binary = (torch.rand(BATCH, CHANNELS, SIDE, SIDE, generator=generator) < 0.3).float()
    mask = (torch.arange(SIDE * SIDE).view(1, 1, SIDE, SIDE) % 2 == 0).float()
    images = mask * binary + (1 - mask) * grey
    forwards = ADAM_STEPS + 1
    eps = torch.randn(forwards, BATCH, N_CONT, generator=generator)
    unif = torch.rand(forwards, BATCH, sum(DISC), generator=generator)
    out.add("images", images.numpy(), np.float32)
    out.add("eps", eps.numpy(), np.float32)
    out.add("uniform", unif.numpy(), np.float32)
    caps = [[capacity(CONT_CAPACITY, t), capacity(DISC_CAPACITY, t)] for t in range(1, forwards + 1)]
    out.add("capacity", caps, np.float64)

    # First forward and backward.
    model.train()
    recon, mean, logvar, alphas, latent = model(images, eps[0], unif[0])
    scaled, terms, units = loss_terms(model, images, recon, mean, logvar, alphas, 1)
    model.zero_grad()
    scaled.backward()
    out.add("mu", mean.detach().numpy(), np.float32)
    out.add("logvar", logvar.detach().numpy(), np.float32)
    out.add("alpha", torch.cat(alphas, dim=1).detach().numpy(), np.float32)
    out.add("latent", latent.detach().numpy(), np.float32)
    out.add("reconstruction", recon.detach().numpy(), np.float32)
    out.add("terms", terms, np.float64)
    out.add("kl_units", units, np.float64)
    params = dict(model.named_parameters())
    rng = np.random.RandomState(3)
    for j, name in enumerate(names):
        grad = params[name].grad.detach().numpy().astype(np.float32).reshape(-1)
        if grad.size <= FULL_LIMIT:
            out.add("grad:" + name, grad, np.float32)
            continue
        index = np.sort(rng.choice(grad.size, SAMPLED, replace=False)).astype(np.int64)
        g64 = grad.astype(np.float64)
        out.add("grad_index:" + name, index, np.int64)
        out.add("grad_value:" + name, grad[index], np.float32)
        out.add("grad_norm:" + name, np.sqrt(np.square(g64).sum()), np.float64)
        out.add("grad_projection:" + name,
                [projection_vector(j, k, grad.size) @ g64 for k in range(PROJECTIONS)],
                np.float64)

    # Five Adam steps with the official training loop, then a sixth forward.
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.999), eps=1e-8)
    totals = []
    for t in range(1, forwards + 1):
        optimizer.zero_grad()
        recon, mean, logvar, alphas, _ = model(images, eps[t - 1], unif[t - 1])
        scaled, terms, _ = loss_terms(model, images, recon, mean, logvar, alphas, t)
        totals.append(terms[-1])
        if t <= ADAM_STEPS:
            scaled.backward()
            optimizer.step()
    out.add("adam_totals", totals, np.float64)
    for j, name in enumerate(names):
        delta = params[name].detach().numpy().astype(np.float64).reshape(-1) - initial[name]
        out.add("adam_delta_projection:" + name,
                [projection_vector(j, k, delta.size) @ delta for k in range(DELTA_PROJECTIONS)],
                np.float64)
    out.write(path)
    print("wrote %s: %d records, total %.6f, after %d Adam steps %.6f"
          % (path, len(out.records), totals[0], ADAM_STEPS, totals[-1]))


if __name__ == "__main__":
    main()
