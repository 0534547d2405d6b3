"""Harness for the tutorial tests: run a PyTorch tutorial's code verbatim on ember and on torch.

A tutorial is kept as its source text, ``import torch`` and all. :func:`run_tutorial` executes it
as a fresh module whose ``__import__`` maps ``torch`` (and ``torch.*``) to ``ember`` for the ember
run, which is what ``import ember as torch`` means for a whole script, ``from torch import nn``
included. What needs a download or a plotting window is replaced by stand-ins of the same
shapes and dtypes: ``torchvision`` (FashionMNIST, CIFAR10, ``ToTensor``, ``Normalize``,
``Compose``, ``Lambda``) and ``matplotlib`` (a sink). Both runs start from the same seeds (ember
draws torch's random streams), so :func:`assert_same_run` can compare what they printed (numbers
to float32 tolerance, the rest exactly) and the values they computed.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import math
import os
import random
import re
import sys
import types
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import ember

torch = pytest.importorskip("torch")


# --- stand-ins for what needs a download or a display -------------------------------------------
class _Sink:
    """Absorbs any attribute access and call (``plt.figure(...).add_subplot(...)``)."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):  # fig, ax = plt.subplots()
        return iter((self, self))


def _images(n, shape, seed):
    rs = np.random.RandomState(seed)
    images = rs.randint(0, 256, (n, *shape)).astype(np.uint8)
    return images, rs.permutation(np.arange(n) % 10).tolist()  # every class, when n >= 10


def fake_torchvision(T):
    """A ``torchvision`` stand-in on backend ``T``: synthetic datasets of the real shapes."""

    class _VisionDataset(T.utils.data.Dataset):
        shape, sizes = (28, 28), (96, 40)  # image shape; train and test set sizes

        def __init__(self, root, train=True, download=False, transform=None,
                     target_transform=None):
            self.data, self.targets = _images(self.sizes[0 if train else 1], self.shape,
                                              0 if train else 1)
            self.transform, self.target_transform = transform, target_transform

        def __len__(self):
            return len(self.data)

        def __getitem__(self, index):
            img, target = self.data[index], self.targets[index]
            if self.transform is not None:
                img = self.transform(img)
            if self.target_transform is not None:
                target = self.target_transform(target)
            return img, target

    class FashionMNIST(_VisionDataset):
        """Grayscale 28x28 uint8 images (as a HxW array, not a PIL image), int labels."""

    class CIFAR10(_VisionDataset):
        """Colour 32x32x3 uint8 images (HxWxC, as torchvision stores them), int labels."""
        shape, sizes = (32, 32, 3), (32, 16)

    class ToTensor:
        """torchvision's ToTensor on a uint8 ndarray: HxW(xC) -> CxHxW float32 in [0, 1]."""

        def __call__(self, pic):
            if pic.ndim == 2:
                pic = pic[:, :, None]
            return T.from_numpy(pic.transpose((2, 0, 1)).copy()).contiguous().float().div(255)

    class Normalize:
        """(x - mean) / std per channel."""

        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, x):
            mean = T.as_tensor(self.mean, dtype=x.dtype).view(-1, 1, 1)
            std = T.as_tensor(self.std, dtype=x.dtype).view(-1, 1, 1)
            return x.sub(mean).div(std)

    class Compose:
        """Apply transforms in order."""

        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, x):
            for t in self.transforms:
                x = t(x)
            return x

    class Lambda:
        """Wrap a function as a transform."""

        def __init__(self, lambd):
            self.lambd = lambd

        def __call__(self, x):
            return self.lambd(x)

    tv = types.ModuleType("torchvision")
    tv.datasets = types.ModuleType("torchvision.datasets")
    tv.datasets.FashionMNIST, tv.datasets.CIFAR10 = FashionMNIST, CIFAR10
    tv.transforms = types.ModuleType("torchvision.transforms")
    for cls in (ToTensor, Normalize, Compose, Lambda):
        setattr(tv.transforms, cls.__name__, cls)
    return tv


def _importer(T, modules=None):
    """An ``__import__`` that maps torch to ``T`` and torchvision/matplotlib to stand-ins;
    ``modules`` adds more: ``{name: function of T returning the module}``."""
    tv = fake_torchvision(T)
    sink = _Sink()
    stubs = {"torchvision": tv, "torchvision.datasets": tv.datasets,
             "torchvision.transforms": tv.transforms, "matplotlib": sink,
             "matplotlib.pyplot": sink, "matplotlib.ticker": sink, "IPython": sink,
             "IPython.core": sink, "IPython.core.debugger": sink}
    for name, make in (modules or {}).items():
        stubs[name] = make(T)
        if name.startswith("torchvision."):
            setattr(tv, name.split(".")[1], stubs[name])

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in stubs:
            return stubs[name] if fromlist else stubs[name.split(".")[0]]
        if level == 0 and T is ember and (name == "torch" or name.startswith("torch.")):
            name = "ember" + name[len("torch"):]
        return builtins.__import__(name, globals, locals, fromlist, level)

    return _import


# --- running a tutorial -------------------------------------------------------------------------
def run_tutorial(source, T, name="tutorial", cwd=None, modules=None, **extra):
    """Execute ``source`` as a module on backend ``T``; return ``(namespace, printed text)``.

    Python's, NumPy's and ``T``'s random generators are seeded with 0 first; ``extra`` names are
    put in the module's globals; ``cwd`` (a tmp dir) is where files the tutorial saves go;
    ``modules`` are extra stand-in modules (see ``_importer``).
    """
    backend = "ember" if T is ember else "torch"
    random.seed(0)
    np.random.seed(0)
    T.manual_seed(0)
    module = types.ModuleType(f"tutorial_{name}_{backend}")
    sys.modules[module.__name__] = module  # pickling a model looks its class up by module
    bdict = dict(vars(builtins))
    bdict["__import__"] = _importer(T, modules)
    module.__dict__.update(__builtins__=bdict, **extra)
    out = io.StringIO()
    old, threads = os.getcwd(), torch.get_num_threads()
    try:
        if cwd is not None:
            os.chdir(cwd)
        # one thread (torch's and BLAS's): these small ops are far slower, seconds instead of
        # milliseconds, when a pool of threads spins for cores that other processes hold
        torch.set_num_threads(1)
        with contextlib.redirect_stdout(out), threadpool_limits(1), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(source, f"<{name} tutorial>", "exec"), module.__dict__)
    finally:
        os.chdir(old)
        torch.set_num_threads(threads)
    module.__dict__["__warnings__"] = [(w.category.__name__, str(w.message)) for w in caught]
    return module.__dict__, out.getvalue()


# --- comparing two runs -------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+")


def _normalise(text):
    text = re.sub(r" at 0x[0-9a-fA-F]+", " at 0x?", text)
    return text.replace("ember.", "torch.")


def _ulp_of(token):
    mantissa, _, exp = token.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (-decimals + (int(exp) if exp else 0))


def assert_same_text(e, t, rtol=1e-4, atol=1e-5):
    """Printed text agrees: everything but decimal numbers exactly, those to float tolerance.

    A printed number may differ by a unit in its last printed digit (close values that round
    differently), on top of ``rtol``/``atol``.
    """
    e, t = _normalise(e), _normalise(t)
    e_skel, t_skel = _NUMBER.sub("#", e), _NUMBER.sub("#", t)
    if e_skel != t_skel:  # show the first differing line
        for le, lt in zip(e.splitlines(), t.splitlines()):
            assert _NUMBER.sub("#", le) == _NUMBER.sub("#", lt), f"ember: {le!r}\ntorch: {lt!r}"
        assert e_skel == t_skel, f"ember printed:\n{e}\ntorch printed:\n{t}"
    for a, b in zip(_NUMBER.findall(e), _NUMBER.findall(t)):
        x, y = float(a), float(b)
        slack = 1.01 * max(_ulp_of(a), _ulp_of(b)) + atol + rtol * abs(y)
        assert math.isclose(x, y) or abs(x - y) <= slack, \
            f"printed {a} != {b}\nember printed:\n{e}\ntorch printed:\n{t}"


def to_numpy(x):
    """A tensor of either backend (or a number, or a list of them) as a NumPy array."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_same_value(e, t, where, rtol=1e-4, atol=1e-5):
    """Two computed values agree: tensors/arrays/numbers by value, dtype kind and shape."""
    if isinstance(t, (list, tuple)) and t and hasattr(t[0], "detach"):
        assert len(e) == len(t), where
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same_value(a, b, f"{where}[{i}]", rtol, atol)
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{where}: {type(e).__name__} is not a Tensor"
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], where
    a, b = to_numpy(e), to_numpy(t)
    assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
    if b.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=where)
    else:
        np.testing.assert_array_equal(a, b, err_msg=where)


def run_both(source, names=(), rtol=1e-4, atol=1e-5, tmp_path=None, name="tutorial",
             modules=None, **extra):
    """Run ``source`` on torch and on ember; assert same printed text and same ``names``.

    Returns the two namespaces ``(ember_ns, torch_ns)`` and the two printed texts.
    """
    dirs = [None, None]
    if tmp_path is not None:
        dirs = [tmp_path / "ember", tmp_path / "torch"]
        for d in dirs:
            d.mkdir(exist_ok=True)
    t_ns, t_out = run_tutorial(source, torch, name, dirs[1], modules, **extra)
    e_ns, e_out = run_tutorial(source, ember, name, dirs[0], modules, **extra)
    assert t_out, "the tutorial printed nothing"
    assert_same_text(e_out, t_out, rtol, atol)
    # the warnings users see: same categories and messages, in order
    assert [(c, _normalise(m)) for c, m in e_ns["__warnings__"]] == \
        [(c, _normalise(m)) for c, m in t_ns["__warnings__"]]
    for n in names:
        assert_same_value(e_ns[n], t_ns[n], n, rtol, atol)
    return e_ns, t_ns, e_out, t_out


# --- the harness itself -------------------------------------------------------------------------
def test_import_torch_means_ember_in_the_ember_run():
    src = ("import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
           "from torch.utils.data import DataLoader\nimport torch.optim as optim\n")
    ns, _ = run_tutorial(src, ember)
    assert ns["torch"] is ember and ns["nn"] is ember.nn and ns["F"] is ember.nn.functional
    assert ns["DataLoader"] is ember.utils.data.DataLoader and ns["optim"] is ember.optim
    ns, _ = run_tutorial(src, torch)
    assert ns["torch"] is torch and ns["F"] is torch.nn.functional


def test_fake_to_tensor_matches_its_definition():
    tv = fake_torchvision(ember)
    img, label = tv.datasets.FashionMNIST("data", transform=tv.transforms.ToTensor())[3]
    assert tuple(img.shape) == (1, 28, 28) and img.dtype == ember.float32
    assert isinstance(label, int)
    raw = tv.datasets.FashionMNIST("data").data[3]
    np.testing.assert_allclose(img.numpy()[0], raw / np.float32(255), rtol=1e-6)
    img, _ = tv.datasets.CIFAR10("data", transform=tv.transforms.ToTensor())[0]
    assert tuple(img.shape) == (3, 32, 32)


def test_text_comparison_tolerates_last_digit_only():
    assert_same_text("loss: 0.123457 [ 64/96]", "loss: 0.123456 [ 64/96]")
    with pytest.raises(AssertionError):
        assert_same_text("loss: 0.1235", "loss: 0.1255")
    with pytest.raises(AssertionError):
        assert_same_text("Size([3, 4])", "Size([3, 5])")
