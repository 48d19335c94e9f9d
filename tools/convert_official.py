#!/usr/bin/env python3
"""Convert a model.pt of the official JointVAE code into a libjointvae .safetensors file.

The official code (Schlumberger/joint-vae) saves `model.state_dict()` with
`torch.save`, next to a `specs.json` that records the latent spec and the data
set. This tool reads that file WITHOUT PyTorch: both of torch.save's layouts are
understood with the standard pickle module (a restricted Unpickler whose
persistent_load resolves the tensor storages):

  * the zip layout (PyTorch >= 1.6): <prefix>/data.pkl plus one raw file per
    storage under <prefix>/data/<key>;
  * the legacy layout (PyTorch 0.4 - 1.5, the official repository's era): a
    magic number, protocol version and system info pickled in a row, then the
    state dict pickle, the list of storage keys, and each storage as an 8-byte
    element count followed by its raw bytes.

(The even older tar layout of PyTorch <= 0.3 is recognised and refused.)

The model options come from the tensors themselves (image channels and size,
latent sizes, hidden width), cross-checked against specs.json and the
command-line options when given. Only names in a fixed allow-list are
unpickled, so a hostile file cannot run code.

Usage:
  convert_official.py MODEL_PT OUTPUT.safetensors [--specs specs.json]
      [--channels C] [--size S] [--continuous N] [--discrete K0,K1,...]
      [--temperature T] [--seed N] [--official-scaling 0|1]

See docs/file-format.md for the output format.
"""

import argparse
import array
import collections
import io
import json
import math
import os
import pickle
import struct
import sys
import tarfile
import tempfile
import zipfile

FORMAT_VERSION = "1"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# Image size per data set of the official code (utils/load_model.py).
DATASET_IMAGE = {
    "mnist": (1, 32),
    "fashion_mnist": (1, 32),
    "dsprites": (1, 64),
    "chairs": (1, 64),
    "celeba": (3, 64),
}


class ConversionError(Exception):
    pass


# ---------------------------------------------------------------- unpickling

class Storage:
    """A typed storage: element format and the raw bytes once known."""

    # torch storage class name -> (struct/array code, element size)
    TYPES = {
        "FloatStorage": ("f", 4),
        "DoubleStorage": ("d", 8),
        "HalfStorage": ("e", 2),
    }

    def __init__(self, type_name, numel):
        if type_name not in Storage.TYPES:
            raise ConversionError(f"tensor storage of type {type_name} is not supported "
                                  "(float32, float64 and float16 are)")
        self.type_name = type_name
        self.code, self.element_size = Storage.TYPES[type_name]
        self.numel = numel
        self.data = None


class StorageType:
    """Stands in for torch.FloatStorage & co. inside the pickle."""

    def __init__(self, name):
        self.name = name


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.shape = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    def float32_values(self, big_endian):
        """The elements in row-major order as an array('f')."""
        storage = self.storage
        if storage.data is None:
            raise ConversionError("a tensor refers to a storage the file does not contain")
        values = array.array(storage.code if storage.code != "e" else "f")
        if storage.code == "e":
            fmt = (">" if big_endian else "<") + f"{storage.numel}e"
            values.extend(struct.unpack(fmt, storage.data[: 2 * storage.numel]))
        else:
            values.frombytes(storage.data[: storage.element_size * storage.numel])
            if big_endian != (sys.byteorder == "big"):
                values.byteswap()
        n = self.numel()
        contiguous = []
        expected = 1
        for extent in reversed(self.shape):
            contiguous.append(expected)
            expected *= extent
        contiguous = tuple(reversed(contiguous))
        if n > 0 and self.offset + n > len(values) and self.stride == contiguous:
            raise ConversionError("a tensor extends past the end of its storage")
        if self.stride == contiguous or n == 0:
            picked = values[self.offset: self.offset + n]
        else:
            picked = array.array(values.typecode)
            index = [0] * len(self.shape)
            for _ in range(n):
                position = self.offset + sum(i * s for i, s in zip(index, self.stride))
                if position >= len(values):
                    raise ConversionError("a tensor extends past the end of its storage")
                picked.append(values[position])
                for axis in reversed(range(len(index))):
                    index[axis] += 1
                    if index[axis] < self.shape[axis]:
                        break
                    index[axis] = 0
        return array.array("f", picked)


def rebuild_tensor(storage, storage_offset, size, stride, *unused):
    return Tensor(storage, storage_offset, size, stride)


def rebuild_parameter(data, requires_grad=None, backward_hooks=None, *unused):
    return data


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only what a state dict of float tensors needs."""

    def __init__(self, stream, load_storage):
        super().__init__(stream)
        self.load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return StorageType(name)
        raise ConversionError(
            f"the pickle refers to {module}.{name}: this is not a plain state dict of tensors "
            "(save model.state_dict(), not the model object)")

    def persistent_load(self, saved_id):
        return self.load_storage(saved_id)


def _decode(value):
    return value.decode("ascii") if isinstance(value, bytes) else value


def load_zip(path):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise ConversionError(f"{path}: zip archive without exactly one data.pkl")
        prefix = pickles[0][: -len("data.pkl")]
        big_endian = False
        if prefix + "byteorder" in names:
            big_endian = archive.read(prefix + "byteorder").decode().strip() == "big"
        storages = {}

        def load_storage(saved_id):
            if not isinstance(saved_id, tuple) or _decode(saved_id[0]) != "storage":
                raise ConversionError(f"{path}: unexpected persistent id {saved_id!r}")
            _, storage_type, key, _location, numel = saved_id[:5]
            key = _decode(key)
            if key not in storages:
                storage = Storage(storage_type.name, int(numel))
                entry = prefix + "data/" + key
                if entry not in names:
                    raise ConversionError(f"{path}: storage {key} is missing from the archive")
                storage.data = archive.read(entry)
                if len(storage.data) < storage.numel * storage.element_size:
                    raise ConversionError(f"{path}: storage {key} is truncated")
                storages[key] = storage
            return storages[key]

        with archive.open(pickles[0]) as stream:
            state = RestrictedUnpickler(io.BytesIO(stream.read()), load_storage).load()
    return state, big_endian


def load_legacy(path):
    with open(path, "rb") as stream:
        plain = RestrictedUnpickler(stream, lambda saved_id: None)
        magic = plain.load()
        if magic != LEGACY_MAGIC:
            raise ConversionError(f"{path}: not a torch.save file (bad magic number)")
        protocol = plain.load()
        if protocol != LEGACY_PROTOCOL:
            raise ConversionError(f"{path}: unsupported legacy protocol {protocol}")
        sys_info = plain.load()
        big_endian = not sys_info.get("little_endian", True)
        storages = {}

        def load_storage(saved_id):
            typename = _decode(saved_id[0])
            if typename != "storage":
                raise ConversionError(f"{path}: unexpected persistent id {typename!r}")
            storage_type, root_key, _location, numel, view_metadata = saved_id[1:6]
            if view_metadata is not None:
                raise ConversionError(f"{path}: storage views are not supported")
            root_key = _decode(root_key)
            if root_key not in storages:
                storages[root_key] = Storage(storage_type.name, int(numel))
            return storages[root_key]

        state = RestrictedUnpickler(stream, load_storage).load()
        keys = RestrictedUnpickler(stream, lambda saved_id: None).load()
        for key in keys:
            key = _decode(key)
            if key not in storages:
                raise ConversionError(f"{path}: storage {key} is listed but never used")
            storage = storages[key]
            header = stream.read(8)
            if len(header) != 8:
                raise ConversionError(f"{path}: truncated storage {key}")
            count = struct.unpack(">q" if big_endian else "<q", header)[0]
            if count != storage.numel:
                raise ConversionError(f"{path}: storage {key} holds {count} elements, "
                                      f"expected {storage.numel}")
            storage.data = stream.read(count * storage.element_size)
            if len(storage.data) != count * storage.element_size:
                raise ConversionError(f"{path}: truncated storage {key}")
    return state, big_endian


def load_state_dict(path):
    if zipfile.is_zipfile(path):
        state, big_endian = load_zip(path)
    elif tarfile.is_tarfile(path):
        raise ConversionError(f"{path}: the tar layout of PyTorch <= 0.3 is not supported; "
                              "re-save it with a newer PyTorch")
    else:
        state, big_endian = load_legacy(path)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ConversionError(f"{path}: the pickle holds a {type(state).__name__}, "
                              "not a state dict")
    for name, value in state.items():
        if not isinstance(value, Tensor):
            raise ConversionError(f"{path}: entry {name!r} is not a tensor")
    return state, big_endian


# ---------------------------------------------------------------- options

def shape_of(state, name):
    if name not in state:
        raise ConversionError(f"the state dict has no tensor {name!r}")
    return state[name].shape


def infer_options(state):
    """Image channels and side, latent sizes and hidden width from the tensors."""
    convs = 0
    while f"img_to_features.{2 * convs}.weight" in state:
        convs += 1
    if convs < 3:
        raise ConversionError("the state dict has fewer than 3 encoder convolutions "
                              "(img_to_features.*): not a JointVAE model")
    channels = shape_of(state, "img_to_features.0.weight")[1]
    hidden = shape_of(state, "features_to_hidden.0.weight")[0]
    continuous = shape_of(state, "fc_mean.weight")[0] if "fc_mean.weight" in state else 0
    discrete = []
    while f"fc_alphas.{len(discrete)}.weight" in state:
        discrete.append(shape_of(state, f"fc_alphas.{len(discrete)}.weight")[0])
    return {
        "channels": channels,
        "size": 4 * 2 ** convs,
        "continuous": continuous,
        "discrete": discrete,
        "hidden": hidden,
    }


def options_from_specs(path):
    with open(path) as stream:
        specs = json.load(stream)
    found = {}
    spec = specs.get("latent_spec", {})
    if "cont" in spec:
        found["continuous"] = int(spec["cont"])
    if "disc" in spec:
        found["discrete"] = [int(k) for k in spec["disc"]]
    if "img_size" in specs:
        size = specs["img_size"]
        found["channels"], found["size"] = int(size[0]), int(size[-1])
    elif specs.get("dataset") in DATASET_IMAGE:
        found["channels"], found["size"] = DATASET_IMAGE[specs["dataset"]]
    gammas = {}
    if "cont_capacity" in specs:
        gammas["gamma_continuous"] = float(specs["cont_capacity"][3])
    if "disc_capacity" in specs:
        gammas["gamma_discrete"] = float(specs["disc_capacity"][3])
    return found, gammas


def reconcile(inferred, declared, source):
    for key, value in declared.items():
        if value is not None and inferred.get(key) != value:
            raise ConversionError(f"{source} says {key} = {value}, but the tensors say "
                                  f"{inferred.get(key)}")


def float_text(value):
    """The float32 nearest `value`, with the 9 digits that make it round-trip."""
    as_float32 = struct.unpack("<f", struct.pack("<f", value))[0]
    return "%.9g" % as_float32


# ---------------------------------------------------------------- output

def build_file(state, big_endian, metadata):
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name, tensor in state.items():
        values = tensor.float32_values(big_endian)
        for i, v in enumerate(values):
            if not math.isfinite(v):
                raise ConversionError(f"tensor {name!r} element {i} is {v}")
        if sys.byteorder == "big":
            values.byteswap()
        data = values.tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write_atomically(path, payload):
    folder = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def convert(args):
    state, big_endian = load_state_dict(args.model)
    inferred = infer_options(state)
    gammas = {}
    if args.specs:
        declared, gammas = options_from_specs(args.specs)
        reconcile(inferred, declared, args.specs)
    reconcile(inferred, {
        "channels": args.channels,
        "size": args.size,
        "continuous": args.continuous,
        "discrete": [int(k) for k in args.discrete.split(",")] if args.discrete else None,
    }, "the command line")
    metadata = {
        "format": "jointvae",
        "format_version": FORMAT_VERSION,
        "library_version": "converted",
        "kind": "model",
        "source": "tools/convert_official.py from " + os.path.basename(args.model),
        "model.channels": str(inferred["channels"]),
        "model.height": str(inferred["size"]),
        "model.width": str(inferred["size"]),
        "model.n_continuous": str(inferred["continuous"]),
        "model.discrete_sizes": ",".join(str(k) for k in inferred["discrete"]),
        "model.temperature": float_text(args.temperature),
        "model.hidden": str(inferred["hidden"]),
        "model.seed": str(args.seed),
        "loss.mode": "jointvae",
        "loss.gamma_continuous": float_text(gammas.get("gamma_continuous", 30.0)),
        "loss.gamma_discrete": float_text(gammas.get("gamma_discrete", 30.0)),
        "loss.beta": float_text(4.0),
        "loss.gamma": float_text(30.0),
        "loss.official_scaling": str(args.official_scaling),
    }
    write_atomically(args.output, build_file(state, big_endian, metadata))
    return inferred


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Convert an official JointVAE model.pt into a libjointvae .safetensors file.")
    parser.add_argument("model", help="model.pt saved by the official code (a state dict)")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--specs", help="the official specs.json (latent_spec, dataset)")
    parser.add_argument("--channels", type=int, help="image channels (checked)")
    parser.add_argument("--size", type=int, help="image side, 32 or 64 (checked)")
    parser.add_argument("--continuous", type=int, help="continuous latents (checked)")
    parser.add_argument("--discrete", help="discrete sizes, e.g. 10 or 2,2,2 (checked)")
    parser.add_argument("--temperature", type=float, default=0.67,
                        help="Gumbel-softmax temperature (the official code's is 0.67)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the model's generator")
    parser.add_argument("--official-scaling", type=int, choices=(0, 1), default=1,
                        help="loss scaling for further training (1: the official code's)")
    args = parser.parse_args(argv)
    if not (args.temperature > 0 and math.isfinite(args.temperature)):
        parser.error("--temperature must be finite and > 0")
    if not 0 <= args.seed < 2 ** 64:
        parser.error("--seed must be in [0, 2^64)")
    try:
        found = convert(args)
    except (ConversionError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError,
            OSError, ValueError, KeyError, IndexError, TypeError, json.JSONDecodeError) as error:
        print(f"convert_official: {error}", file=sys.stderr)
        return 1
    discrete = ",".join(str(k) for k in found["discrete"]) or "none"
    print(f"wrote {args.output}: {found['channels']}x{found['size']}x{found['size']}, "
          f"{found['continuous']} continuous, discrete [{discrete}], hidden {found['hidden']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
