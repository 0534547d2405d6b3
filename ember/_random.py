"""Random number generators: ``Generator``, the default one, and ``manual_seed``."""
from __future__ import annotations

import numpy as np

# torch's CPUGeneratorImplState, byte for byte (what get_rng_state returns)
_STATE = np.dtype([("seed", "<u8"), ("left", "<i4"), ("seeded", "<i4"), ("next", "<u8"),
                   ("state", "<u8", (624,)), ("normal_x", "<f8"), ("normal_y", "<f8"),
                   ("normal_rho", "<f8"), ("normal_is_valid", "<i4"), ("pad", "V4"),
                   ("float_sample", "<f4"), ("float_valid", "u1"), ("pad2", "V3")])


class Generator:
    """A seeded source of random numbers: torch's CPU generator, a Mersenne Twister seeded as
    torch seeds it, so ``manual_seed`` then ``rand``/``randn``/``randint``/``randperm``/
    ``multinomial``, ``poisson``, dropout masks and the distributions' samplers give torch's
    numbers (``ember._sampling`` has the algorithms).
    """

    def __init__(self, device="cpu"):
        from ._backend import check_device

        self.device = check_device(device)
        self.manual_seed(67280421310721)  # torch's default_generator initial seed

    def manual_seed(self, seed) -> Generator:
        """Reseed; returns self."""
        from ._sampling import seeded_mt

        seed = int(seed)
        self._seed = seed
        self._mt = seeded_mt(seed)
        self._normal_cache = None  # torch's next_double_normal_sample
        return self

    def seed(self) -> int:
        """Reseed from a non-deterministic source and return the new seed."""
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed last set."""
        return self._seed

    def get_state(self):
        """The generator state as torch's 5056-byte uint8 tensor (its ``CPUGeneratorImplState``
        layout, so torch's states load here and ember's load in torch)."""
        from ._creation import from_numpy

        mt = self._mt.state["state"]
        rec = np.zeros((), _STATE)
        pos = int(mt["pos"])
        rec["seed"] = self._seed & 0xFFFFFFFFFFFFFFFF
        rec["left"], rec["seeded"], rec["next"] = 625 - pos, 1, pos if pos < 624 else 0
        rec["state"] = mt["key"]
        if self._normal_cache is not None:
            rec["normal_y"], rec["normal_is_valid"] = self._normal_cache, 1
        return from_numpy(np.frombuffer(rec.tobytes(), np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state returned by ``get_state`` (ember's or torch's)."""
        arr = np.asarray(new_state._data if hasattr(new_state, "_data") else new_state)
        if arr.dtype != np.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {arr.dtype}")
        if arr.size != _STATE.itemsize:
            raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a "
                               f"CPUGeneratorImplState of size 5056 but found the input RNG "
                               f"state size to be {arr.size}")
        rec = np.frombuffer(arr.tobytes(), _STATE)[0]
        if not 1 <= int(rec["left"]) <= 624 + 1:
            raise RuntimeError("The provided state is invalid: left is out of range")
        mt = np.random.MT19937()
        mt.state = {"bit_generator": "MT19937",
                    "state": {"key": rec["state"].astype(np.uint32), "pos": 625 - int(rec["left"])}}
        self._seed, self._mt = int(rec["seed"]), mt
        self._normal_cache = float(rec["normal_y"]) if rec["normal_is_valid"] else None
        return self

    def __repr__(self):
        return "<ember.Generator object>"


default_generator = Generator()


def _gen(generator=None) -> Generator:
    """``generator``, or the default generator when it is None."""
    return generator or default_generator


def manual_seed(seed) -> Generator:
    """Seed the default generator (and return it), as ``torch.manual_seed``."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(new_state)


