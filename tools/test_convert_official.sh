#!/bin/sh
# Round trip of tools/convert_official.py, run by hand (it needs PyTorch):
#   1. build the official JointVAE network in PyTorch (the code of
#      Schlumberger/joint-vae, jointvae/models.py, reduced to its layers) for a
#      32x32 MNIST-like and a 64x64 RGB model, and torch.save its state dict in
#      both the zip layout and the legacy layout (_use_new_zipfile_serialization=False);
#   2. convert each with the tool (the legacy and zip files must give identical
#      outputs);
#   3. load the result in C through ctypes and libjointvae.so, and compare encode
#      and decode of fixed inputs with PyTorch's.
# Usage: tools/test_convert_official.sh [BUILD_DIR]   (default: build/release)
# Prints "skipped" and exits 0 when Debian's python3 has no torch.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build/release}
python=/usr/bin/python3
library=$(ls "$build"/lib/libjointvae.so 2>/dev/null || true)
if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "skipped: $python cannot import torch"
    exit 0
fi
[ -n "$library" ] || { echo "no libjointvae.so under $build/lib: build first"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

OPENBLAS_NUM_THREADS=1 "$python" - "$top" "$library" "$work" <<'EOF'
import ctypes, json, os, subprocess, sys
import torch
from torch import nn

top, library, work = sys.argv[1:4]
torch.manual_seed(0)
torch.set_num_threads(1)


class OfficialVAE(nn.Module):
    """The layers of the official VAE, with the official attribute names."""

    def __init__(self, img_size, latent_spec):
        super().__init__()
        self.img_size = img_size
        self.cont = latent_spec.get("cont", 0)
        self.disc = latent_spec.get("disc", [])
        self.latent_dim = self.cont + sum(self.disc)
        layers = [nn.Conv2d(img_size[0], 32, (4, 4), stride=2, padding=1), nn.ReLU()]
        if img_size[1:] == (64, 64):
            layers += [nn.Conv2d(32, 32, (4, 4), stride=2, padding=1), nn.ReLU()]
        layers += [nn.Conv2d(32, 64, (4, 4), stride=2, padding=1), nn.ReLU(),
                   nn.Conv2d(64, 64, (4, 4), stride=2, padding=1), nn.ReLU()]
        self.img_to_features = nn.Sequential(*layers)
        self.features_to_hidden = nn.Sequential(nn.Linear(64 * 4 * 4, 256), nn.ReLU())
        if self.cont:
            self.fc_mean = nn.Linear(256, self.cont)
            self.fc_log_var = nn.Linear(256, self.cont)
        if self.disc:
            self.fc_alphas = nn.ModuleList([nn.Linear(256, k) for k in self.disc])
        self.latent_to_features = nn.Sequential(
            nn.Linear(self.latent_dim, 256), nn.ReLU(), nn.Linear(256, 64 * 4 * 4), nn.ReLU())
        layers = []
        if img_size[1:] == (64, 64):
            layers += [nn.ConvTranspose2d(64, 64, (4, 4), stride=2, padding=1), nn.ReLU()]
        layers += [nn.ConvTranspose2d(64, 32, (4, 4), stride=2, padding=1), nn.ReLU(),
                   nn.ConvTranspose2d(32, 32, (4, 4), stride=2, padding=1), nn.ReLU(),
                   nn.ConvTranspose2d(32, img_size[0], (4, 4), stride=2, padding=1), nn.Sigmoid()]
        self.features_to_img = nn.Sequential(*layers)

    def encode(self, x):
        hidden = self.features_to_hidden(self.img_to_features(x).view(x.size(0), -1))
        mean = self.fc_mean(hidden) if self.cont else None
        log_var = self.fc_log_var(hidden) if self.cont else None
        alphas = ([torch.softmax(fc(hidden), dim=1) for fc in self.fc_alphas]
                  if self.disc else [])
        return mean, log_var, alphas

    def decode(self, latent):
        return self.features_to_img(self.latent_to_features(latent).view(-1, 64, 4, 4))


jvae = ctypes.CDLL(library)
jvae.jvae_last_error.restype = ctypes.c_char_p
jvae.jvae_tensor_data.restype = ctypes.POINTER(ctypes.c_float)
jvae.jvae_model_latent_dim.restype = ctypes.c_int


def check(status, what):
    if status != 0:
        raise SystemExit(f"{what} failed ({status}): {jvae.jvae_last_error().decode()}")


def c_tensor(values):
    shape = (ctypes.c_int64 * len(values.shape))(*values.shape)
    handle = ctypes.c_void_p()
    flat = values.detach().contiguous().view(-1).tolist()
    buffer = (ctypes.c_float * len(flat))(*flat)
    check(jvae.jvae_tensor_from_buffer(ctypes.byref(handle), buffer, len(values.shape), shape),
          "jvae_tensor_from_buffer")
    return handle


def empty_tensor(*shape):
    handle = ctypes.c_void_p()
    dims = (ctypes.c_int64 * len(shape))(*shape)
    check(jvae.jvae_tensor_create(ctypes.byref(handle), len(shape), dims), "jvae_tensor_create")
    return handle


def values_of(handle, count):
    data = jvae.jvae_tensor_data(handle)
    return torch.tensor([data[i] for i in range(count)])


def max_difference(handle, expected):
    got = values_of(handle, expected.numel()).view(expected.shape)
    return (got - expected).abs().max().item()


cases = [
    ("mnist", (1, 32, 32), {"cont": 10, "disc": [10]}),
    ("celeba", (3, 64, 64), {"cont": 4, "disc": [2, 3]}),
]
for dataset, img_size, spec in cases:
    model = OfficialVAE(img_size, spec).eval()
    for p in model.parameters():  # make every output depend on every weight
        p.data.add_(torch.randn_like(p) * 0.01)
    specs = os.path.join(work, f"{dataset}-specs.json")
    with open(specs, "w") as f:
        json.dump({"dataset": dataset, "latent_spec": spec,
                   "cont_capacity": [0.0, 5.0, 25000, 30.0],
                   "disc_capacity": [0.0, 5.0, 25000, 30.0]}, f)
    outputs = []
    for layout in ("zip", "legacy"):
        pt = os.path.join(work, f"{dataset}-{layout}.pt")
        torch.save(model.state_dict(), pt, _use_new_zipfile_serialization=(layout == "zip"))
        out = os.path.join(work, f"{dataset}-{layout}.safetensors")
        subprocess.run([sys.executable, os.path.join(top, "tools", "convert_official.py"),
                        pt, out, "--specs", specs], check=True)
        outputs.append(out)
    parts = []
    for out in outputs:
        with open(out, "rb") as f:
            blob = f.read()
        length = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8:8 + length])
        del header["__metadata__"]["source"]  # names the input file
        parts.append((header, blob[8 + length:]))
    assert parts[0] == parts[1], "zip and legacy layouts converted differently"

    handle = ctypes.c_void_p()
    check(jvae.jvae_model_load(ctypes.byref(handle), outputs[0].encode()), "jvae_model_load")
    assert jvae.jvae_model_latent_dim(handle) == model.latent_dim

    n = 5
    images = torch.rand(n, *img_size)
    latent = torch.randn(n, model.latent_dim)
    with torch.no_grad():
        mean, log_var, alphas = model.encode(images)
        decoded = model.decode(latent)
    c_images, c_latent = c_tensor(images), c_tensor(latent)
    c_mu = empty_tensor(n, spec["cont"])
    c_logvar = empty_tensor(n, spec["cont"])
    c_alpha = empty_tensor(n, sum(spec["disc"]))
    c_decoded = empty_tensor(n, *img_size)
    check(jvae.jvae_encode(handle, c_images, c_mu, c_logvar, c_alpha), "jvae_encode")
    check(jvae.jvae_decode(handle, c_latent, c_decoded), "jvae_decode")
    differences = {
        "mu": max_difference(c_mu, mean),
        "logvar": max_difference(c_logvar, log_var),
        "alpha": max_difference(c_alpha, torch.cat(alphas, dim=1)),
        "decode": max_difference(c_decoded, decoded),
    }
    print(dataset, " ".join(f"{k} {v:.2e}" for k, v in differences.items()))
    # Same float32 weights, sums over up to 1024 terms in another order: the
    # differences are a few float32 ulps (~1e-7 on values of order 1); 1e-5
    # leaves room for other BLAS builds and still catches any layout mistake.
    worst = max(differences.values())
    assert worst < 1e-5, f"{dataset}: C and PyTorch outputs differ by {worst}"
    for h in (c_images, c_latent, c_mu, c_logvar, c_alpha, c_decoded):
        jvae.jvae_tensor_free(h)
    jvae.jvae_model_free(handle)

# Refusals: a whole pickled module, and a file that is not a torch.save file.
whole = os.path.join(work, "whole.pt")
torch.save(OfficialVAE((1, 32, 32), {"cont": 2}), whole)
garbage = os.path.join(work, "garbage.pt")
with open(garbage, "wb") as f:
    f.write(b"not a pickle at all")
for bad, needle in ((whole, "not a plain state dict"), (garbage, "")):
    result = subprocess.run([sys.executable, os.path.join(top, "tools", "convert_official.py"),
                             bad, os.path.join(work, "bad.safetensors")],
                            capture_output=True, text=True)
    assert result.returncode == 1 and needle in result.stderr, result.stderr
    assert not os.path.exists(os.path.join(work, "bad.safetensors"))
print("convert_official round trip: ok")
EOF
