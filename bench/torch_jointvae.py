#!/usr/bin/python3
"""PyTorch side of the libjointvae benchmark (run with Debian's /usr/bin/python3).

The model, sampling and loss are the official JointVAE code's
(github Schlumberger/joint-vae: jointvae/models.py and jointvae/training.py),
rewritten line for line so that both sides do the same work per step:
Conv/ConvTranspose 4x4 stride 2 pad 1 with ReLU, Linear heads, softmax
alphas, Gaussian and Gumbel-softmax sampling, sigmoid output, BCE on the
sigmoid (F.binary_cross_entropy, as the official code does) times H*W, the
two capacity terms, the total divided by H*W, and torch.optim.Adam.

One process measures one thing (training at batch 64, or encoding at batch
256) and prints one line in the format of bench/jvae_bench.c:
  result side=torch mode=train config=A threads=1 batch=64 img_per_s=... ...
so that its peak RSS (VmHWM) is that of the measured work alone (plus the
interpreter and torch itself, which a user of PyTorch pays as well).

Mode `serve` keeps both ready and times one window per request line on
stdin ("train S" or "encode S"), answering "window mode=... img_per_s=...",
as jvae-bench serve does; bench/paired.py drives the two turn about.
"""
import argparse
import math
import resource
import statistics
import sys
import time

RSS_BEFORE_IMPORT_KB = None


def status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


RSS_BEFORE_IMPORT_KB = status_kb("VmRSS")

import torch  # noqa: E402  (imported after the baseline RSS reading on purpose)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

RSS_AFTER_IMPORT_KB = status_kb("VmRSS")

EPS = 1e-12

# The three configurations of bench/README.md: image (C, H, W), continuous
# latents, discrete sizes, and the official capacity settings
# [C_min, C_max, iterations, gamma] for continuous and discrete.
CONFIGS = {
    "A": dict(name="MNIST", img=(1, 32, 32), cont=10, disc=[10],
              cont_capacity=[0.0, 5.0, 25000, 30.0], disc_capacity=[0.0, 5.0, 25000, 30.0]),
    "B": dict(name="dSprites", img=(1, 64, 64), cont=6, disc=[3],
              cont_capacity=[0.0, 40.0, 300000, 150.0], disc_capacity=[0.0, 1.1, 300000, 150.0]),
    "C": dict(name="CelebA", img=(3, 64, 64), cont=32, disc=[10],
              cont_capacity=[0.0, 50.0, 100000, 100.0], disc_capacity=[0.0, 10.0, 100000, 100.0]),
}


class VAE(nn.Module):
    """jointvae/models.py VAE, CPU only."""

    def __init__(self, img_size, latent_spec, temperature=.67):
        super().__init__()
        self.img_size = img_size
        self.is_continuous = "cont" in latent_spec
        self.is_discrete = "disc" in latent_spec
        self.latent_spec = latent_spec
        self.num_pixels = img_size[1] * img_size[2]
        self.temperature = temperature
        self.hidden_dim = 256
        self.reshape = (64, 4, 4)
        self.latent_cont_dim = 0
        self.latent_disc_dim = 0
        self.num_disc_latents = 0
        if self.is_continuous:
            self.latent_cont_dim = self.latent_spec["cont"]
        if self.is_discrete:
            self.latent_disc_dim += sum([dim for dim in self.latent_spec["disc"]])
            self.num_disc_latents = len(self.latent_spec["disc"])
        self.latent_dim = self.latent_cont_dim + self.latent_disc_dim

        encoder_layers = [nn.Conv2d(self.img_size[0], 32, (4, 4), stride=2, padding=1),
                          nn.ReLU()]
        if self.img_size[1:] == (64, 64):
            encoder_layers += [nn.Conv2d(32, 32, (4, 4), stride=2, padding=1), nn.ReLU()]
        encoder_layers += [nn.Conv2d(32, 64, (4, 4), stride=2, padding=1), nn.ReLU(),
                           nn.Conv2d(64, 64, (4, 4), stride=2, padding=1), nn.ReLU()]
        self.img_to_features = nn.Sequential(*encoder_layers)
        self.features_to_hidden = nn.Sequential(nn.Linear(64 * 4 * 4, self.hidden_dim),
                                                nn.ReLU())
        if self.is_continuous:
            self.fc_mean = nn.Linear(self.hidden_dim, self.latent_cont_dim)
            self.fc_log_var = nn.Linear(self.hidden_dim, self.latent_cont_dim)
        if self.is_discrete:
            self.fc_alphas = nn.ModuleList(
                [nn.Linear(self.hidden_dim, disc_dim) for disc_dim in self.latent_spec["disc"]])

        self.latent_to_features = nn.Sequential(
            nn.Linear(self.latent_dim, self.hidden_dim), nn.ReLU(),
            nn.Linear(self.hidden_dim, 64 * 4 * 4), nn.ReLU())
        decoder_layers = []
        if self.img_size[1:] == (64, 64):
            decoder_layers += [nn.ConvTranspose2d(64, 64, (4, 4), stride=2, padding=1),
                               nn.ReLU()]
        decoder_layers += [nn.ConvTranspose2d(64, 32, (4, 4), stride=2, padding=1), nn.ReLU(),
                           nn.ConvTranspose2d(32, 32, (4, 4), stride=2, padding=1), nn.ReLU(),
                           nn.ConvTranspose2d(32, self.img_size[0], (4, 4), stride=2, padding=1),
                           nn.Sigmoid()]
        self.features_to_img = nn.Sequential(*decoder_layers)

    def encode(self, x):
        batch_size = x.size()[0]
        features = self.img_to_features(x)
        hidden = self.features_to_hidden(features.view(batch_size, -1))
        latent_dist = {}
        if self.is_continuous:
            latent_dist["cont"] = [self.fc_mean(hidden), self.fc_log_var(hidden)]
        if self.is_discrete:
            latent_dist["disc"] = [F.softmax(fc_alpha(hidden), dim=1)
                                   for fc_alpha in self.fc_alphas]
        return latent_dist

    def reparameterize(self, latent_dist):
        latent_sample = []
        if self.is_continuous:
            mean, logvar = latent_dist["cont"]
            latent_sample.append(self.sample_normal(mean, logvar))
        if self.is_discrete:
            for alpha in latent_dist["disc"]:
                latent_sample.append(self.sample_gumbel_softmax(alpha))
        return torch.cat(latent_sample, dim=1)

    def sample_normal(self, mean, logvar):
        if self.training:
            std = torch.exp(0.5 * logvar)
            eps = torch.zeros(std.size()).normal_()
            return mean + std * eps
        return mean

    def sample_gumbel_softmax(self, alpha):
        if self.training:
            unif = torch.rand(alpha.size())
            gumbel = -torch.log(-torch.log(unif + EPS) + EPS)
            log_alpha = torch.log(alpha + EPS)
            logit = (log_alpha + gumbel) / self.temperature
            return F.softmax(logit, dim=1)
        _, max_alpha = torch.max(alpha, dim=1)
        one_hot_samples = torch.zeros(alpha.size())
        one_hot_samples.scatter_(1, max_alpha.view(-1, 1).data.cpu(), 1)
        return one_hot_samples

    def decode(self, latent_sample):
        features = self.latent_to_features(latent_sample)
        return self.features_to_img(features.view(-1, *self.reshape))

    def forward(self, x):
        latent_dist = self.encode(x)
        latent_sample = self.reparameterize(latent_dist)
        return self.decode(latent_sample), latent_dist


class Trainer:
    """jointvae/training.py Trainer: one _train_iteration per call of step()."""

    def __init__(self, model, optimizer, cont_capacity, disc_capacity):
        self.model = model
        self.optimizer = optimizer
        self.cont_capacity = cont_capacity
        self.disc_capacity = disc_capacity
        self.num_steps = 0

    def step(self, data):
        self.num_steps += 1
        self.optimizer.zero_grad()
        recon_batch, latent_dist = self.model(data)
        loss = self._loss_function(data, recon_batch, latent_dist)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def _loss_function(self, data, recon_data, latent_dist):
        num_pixels = self.model.num_pixels
        recon_loss = F.binary_cross_entropy(recon_data.view(-1, num_pixels),
                                            data.view(-1, num_pixels))
        recon_loss *= num_pixels
        cont_capacity_loss = 0
        disc_capacity_loss = 0
        if self.model.is_continuous:
            mean, logvar = latent_dist["cont"]
            kl_cont_loss = self._kl_normal_loss(mean, logvar)
            cont_min, cont_max, cont_num_iters, cont_gamma = self.cont_capacity
            cont_cap_current = (cont_max - cont_min) * self.num_steps / float(cont_num_iters) \
                + cont_min
            cont_cap_current = min(cont_cap_current, cont_max)
            cont_capacity_loss = cont_gamma * torch.abs(cont_cap_current - kl_cont_loss)
        if self.model.is_discrete:
            kl_disc_loss = self._kl_multiple_discrete_loss(latent_dist["disc"])
            disc_min, disc_max, disc_num_iters, disc_gamma = self.disc_capacity
            disc_cap_current = (disc_max - disc_min) * self.num_steps / float(disc_num_iters) \
                + disc_min
            disc_cap_current = min(disc_cap_current, disc_max)
            disc_theoretical_max = sum([float(math.log(disc_dim))
                                        for disc_dim in self.model.latent_spec["disc"]])
            disc_cap_current = min(disc_cap_current, disc_theoretical_max)
            disc_capacity_loss = disc_gamma * torch.abs(disc_cap_current - kl_disc_loss)
        total_loss = recon_loss + cont_capacity_loss + disc_capacity_loss
        return total_loss / num_pixels

    def _kl_normal_loss(self, mean, logvar):
        kl_values = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp())
        kl_means = torch.mean(kl_values, dim=0)
        return torch.sum(kl_means)

    def _kl_multiple_discrete_loss(self, alphas):
        kl_losses = [self._kl_discrete_loss(alpha) for alpha in alphas]
        return torch.sum(torch.cat(kl_losses))

    def _kl_discrete_loss(self, alpha):
        disc_dim = int(alpha.size()[-1])
        log_dim = torch.Tensor([math.log(disc_dim)])
        neg_entropy = torch.sum(alpha * torch.log(alpha + EPS), dim=1)
        mean_neg_entropy = torch.mean(neg_entropy, dim=0)
        return log_dim + mean_neg_entropy


def synthetic_images(config, batch, generator):
    """Uniform grey levels for MNIST and CelebA, exact 0/1 pixels for dSprites
    (the same distributions bench/jvae_bench.c draws)."""
    shape = (batch,) + config["img"]
    images = torch.rand(shape, generator=generator)
    if config["name"] == "dSprites":
        images = (images < 0.5).float()
    return images


def timed_windows(work, images_per_call, warmup_s, seconds, window_s):
    """Warm up for warmup_s (at least 2 calls), then time windows of at least
    window_s (and one call) until `seconds` have passed and 3 windows exist.
    Returns (median, min, max window throughput, total calls, wall, cpu)
    (cpu: this process's CPU seconds, all threads)."""
    start = time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - start < warmup_s:
        work()
        calls += 1
    rates = []
    total_calls = 0
    cpu_start = time.process_time()
    t0 = time.perf_counter()
    while len(rates) < 3 or time.perf_counter() - t0 < seconds:
        w0 = time.perf_counter()
        n = 0
        while n < 1 or time.perf_counter() - w0 < window_s:
            work()
            n += 1
        rates.append(n * images_per_call / (time.perf_counter() - w0))
        total_calls += n
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu_start
    return statistics.median(rates), min(rates), max(rates), total_calls, wall, cpu


def make_work(mode, model, config, batch, generator, losses):
    """One call of the measured work: a training step (batch 64) or an
    encoding (batch 256) of synthetic images made here."""
    images = synthetic_images(config, batch, generator)
    if mode == "train":
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
        trainer = Trainer(model, optimizer, config["cont_capacity"], config["disc_capacity"])

        def work():
            model.train()
            losses.append(trainer.step(images))
    else:
        def work():
            model.eval()
            with torch.inference_mode():
                latent_dist = model.encode(images)
            assert latent_dist["cont"][0].shape == (batch, config["cont"])
    return work


def serve(args, model, config, generator):
    works = {"train": make_work("train", model, config, args.train_batch, generator, []),
             "encode": make_work("encode", model, config, args.encode_batch, generator, [])}
    batches = {"train": args.train_batch, "encode": args.encode_batch}
    print(f"ready side={args.label} config={args.config} threads={args.threads}", flush=True)
    for line in sys.stdin:
        mode, seconds = line.split()
        seconds = float(seconds)
        work = works[mode]
        t0 = time.perf_counter()
        calls = 0
        while calls < 1 or time.perf_counter() - t0 < seconds:
            work()
            calls += 1
        rate = calls * batches[mode] / (time.perf_counter() - t0)
        print(f"window mode={mode} img_per_s={rate:.2f} calls={calls}", flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modes", help="train, encode, or train,encode (training first, so "
                        "that the training line's peak RSS is that of training alone), or serve")
    parser.add_argument("--config", choices=sorted(CONFIGS), required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--encode-batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--window", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--label", default="torch",
                        help="side= name printed (e.g. torch+jemalloc)")
    args = parser.parse_args()

    modes = args.modes.split(",")
    if modes != ["serve"] and (not modes or
                               any(mode not in ("train", "encode") for mode in modes)):
        parser.error("modes must be train, encode, train,encode or serve")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = CONFIGS[args.config]
    latent_spec = {"cont": config["cont"], "disc": config["disc"]}
    model = VAE(img_size=config["img"], latent_spec=latent_spec, temperature=0.67)
    generator = torch.Generator().manual_seed(args.seed + 1)
    if modes == ["serve"]:
        return serve(args, model, config, generator)
    for mode in modes:
        batch = args.train_batch if mode == "train" else args.encode_batch
        losses = [float("nan")]
        work = make_work(mode, model, config, batch, generator, losses)
        median, low, high, calls, wall, cpu = timed_windows(work, batch, args.warmup,
                                                            args.seconds, args.window)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"result side={args.label} mode={mode} config={args.config} "
              f"threads={args.threads} batch={batch} img_per_s={median:.2f} "
              f"img_per_s_min={low:.2f} img_per_s_max={high:.2f} "
              f"img_per_cpu_s={calls * batch / cpu:.2f} calls={calls} "
              f"wall_s={wall:.3f} cpu_util={cpu / wall:.2f} peak_rss_kb={status_kb('VmHWM')} "
              f"maxrss_kb={usage.ru_maxrss} rss_before_import_kb={RSS_BEFORE_IMPORT_KB} "
              f"rss_after_import_kb={RSS_AFTER_IMPORT_KB} loss={losses[-1]:.4f} "
              f"torch={torch.__version__} params={sum(p.numel() for p in model.parameters())}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
