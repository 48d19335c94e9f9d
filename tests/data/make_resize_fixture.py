#!/usr/bin/python3
"""Write tests/data/resize_fixture.txt: small 8-bit images and what Pillow's
Image.resize makes of them, the reference for tests/test_data_resize.c.

Run by hand with Debian's Python and python3-pil (never at build time):
    /usr/bin/python3 tests/data/make_resize_fixture.py

Format (text): a header line "pillow <version>", then per case
    case <name> <mode L|RGB> <in_w> <in_h> <out_w> <out_h> <filter BILINEAR|BOX>
    in   followed by in_h lines of in_w·channels bytes as hex pairs
    out  followed by out_h lines of out_w·channels bytes as hex pairs
"""
import os

import numpy as np
from PIL import Image, __version__ as pil_version


def digit_like(rng):
    """A 28x28 stroke with anti-aliased edges, like an MNIST digit."""
    rows, cols = np.mgrid[0:28, 0:28]
    ring = np.hypot(rows - 13.7, (cols - 14.2) * 1.4)
    stroke = np.clip(1.0 - np.abs(ring - 8.0) / 2.2, 0.0, 1.0)
    bar = np.clip(1.0 - np.abs(cols - 0.3 * rows - 6.0) / 1.6, 0.0, 1.0) * (rows > 4) * (rows < 25)
    image = np.maximum(stroke, bar) * 255.0 + rng.normal(0.0, 4.0, (28, 28))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def cases():
    rng = np.random.default_rng(20240601)
    noise28 = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    ramp = np.add.outer(np.arange(28) * 9, np.arange(28) * 0).astype(np.uint8)
    stripes = np.where(np.add.outer(np.zeros(28), np.arange(28)) % 3 == 0, 255, ramp).astype(np.uint8)
    yield "mnist_noise", "L", noise28, (32, 32), "BILINEAR"
    yield "mnist_digit", "L", digit_like(rng), (32, 32), "BILINEAR"
    yield "mnist_stripes", "L", stripes, (32, 32), "BILINEAR"
    yield "up_odd", "L", rng.integers(0, 256, (7, 9), dtype=np.uint8), (23, 17), "BILINEAR"
    yield "down_rgb", "RGB", rng.integers(0, 256, (13, 20, 3), dtype=np.uint8), (7, 9), "BILINEAR"
    yield "box_half_rgb", "RGB", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), (8, 8), "BOX"


def hex_rows(array):
    flat = array.reshape(array.shape[0], -1)
    return ["".join(f"{v:02x}" for v in row) for row in flat]


def main():
    filters = {"BILINEAR": Image.BILINEAR, "BOX": Image.BOX}
    lines = [f"pillow {pil_version}"]
    for name, mode, pixels, (out_w, out_h), filter_name in cases():
        image = Image.fromarray(pixels, mode)
        resized = np.asarray(image.resize((out_w, out_h), filters[filter_name]))
        in_h, in_w = pixels.shape[:2]
        lines.append(f"case {name} {mode} {in_w} {in_h} {out_w} {out_h} {filter_name}")
        lines.append("in")
        lines += hex_rows(pixels)
        lines.append("out")
        lines += hex_rows(resized)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resize_fixture.txt")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
