"""Random number generators: ``Generator``, the default one, and ``manual_seed``."""
from __future__ import annotations

import json

import numpy as np


class Generator:
    """A seeded source of random numbers (NumPy's PCG64 underneath).

    Numbers differ from torch's Mersenne Twister stream; seeding, state saving and the
    ``generator=`` arguments work as in torch.
    """

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721  # torch's default_generator initial seed
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed) -> Generator:
        """Reseed; returns self."""
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))
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
        """The generator state as a uint8 tensor (restorable with ``set_state``)."""
        from ._creation import from_numpy

        state = {"seed": self._seed, "bit_generator": self._rng.bit_generator.state}
        raw = json.dumps(state, default=int).encode()
        return from_numpy(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state returned by ``get_state``."""
        arr = np.asarray(new_state._data if hasattr(new_state, "_data") else new_state, np.uint8)
        try:
            state = json.loads(arr.tobytes().decode())
            self._seed = int(state["seed"])
            bg = np.random.PCG64()
            bg.state = state["bit_generator"]
        except (ValueError, KeyError, TypeError) as e:
            raise RuntimeError(f"Invalid generator state: {e}") from None
        self._rng = np.random.Generator(bg)
        return self

    def __repr__(self):
        return "<ember.Generator object>"


default_generator = Generator()


def _rng(generator=None) -> np.random.Generator:
    return (generator or default_generator)._rng


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


