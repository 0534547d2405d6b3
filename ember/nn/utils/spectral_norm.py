"""Legacy spectral normalization (torch's ``torch.nn.utils.spectral_norm``).

``spectral_norm(module)`` keeps the raw weight as the parameter ``weight_orig`` and two
buffers ``weight_u``, ``weight_v`` (the power iteration's singular-vector estimates); a forward
pre-hook sets ``module.weight = weight_orig / sigma`` with ``sigma = u . (W v)``, running
``n_power_iterations`` steps of power iteration first while training. State-dict hooks record
the format version and upgrade version-0 state dicts, as torch's do.
"""
from __future__ import annotations

from typing import Any

from ... import linalg
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.linalg import dot
from .. import functional as F
from ..modules import conv
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["SpectralNorm", "SpectralNormLoadStateDictPreHook", "SpectralNormStateDictHook",
           "spectral_norm", "remove_spectral_norm"]

# modules whose weight is (in, out, ...): their default normalised dim is 1
_TRANSPOSED_CONVS = tuple(getattr(conv, f"ConvTranspose{n}d") for n in (1, 2, 3)
                          if hasattr(conv, f"ConvTranspose{n}d"))


def _default_dim(module: Module, dim: int | None) -> int:
    if dim is not None:
        return dim
    return 1 if isinstance(module, _TRANSPOSED_CONVS) else 0


class SpectralNorm:
    """The forward pre-hook behind ``spectral_norm``: sets ``module.<name>`` to
    ``<name>_orig / sigma`` before every call.

    Args:
        name: the parameter's name.
        n_power_iterations: power-iteration steps per training forward (positive).
        dim: the dimension of the weight that becomes the matrix's rows.
        eps: the floor on norms when normalizing u and v.

    Raises:
        ValueError: ``n_power_iterations`` is not positive.
    """

    # version 1: the weight is no buffer, v is a buffer, eval computes u . W_orig v
    _version: int = 1
    name: str
    dim: int
    n_power_iterations: int
    eps: float

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """``weight`` as a matrix whose rows run along ``dim``."""
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.permute(
                self.dim, *[d for d in range(weight_mat.dim()) if d != self.dim])
        return weight_mat.reshape(weight_mat.size(0), -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """``<name>_orig / sigma``. With ``do_power_iteration`` the buffers u and v are first
        advanced in place (then cloned, so two forwards can share one backward)."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v = F.normalize(weight_mat.t() @ u, dim=0, eps=self.eps, out=v)
                    u = F.normalize(weight_mat @ v, dim=0, eps=self.eps, out=u)
                u = u.clone()
                v = v.clone()
        sigma = dot(u, weight_mat @ v)
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Put back ``<name>`` as one Parameter holding the normalized weight (no iteration)."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat: Tensor, u: Tensor, target_sigma) -> Tensor:
        # a v with u = normalize(W v) and u . W v = target_sigma (pinv: W^T W may be singular)
        v = linalg.multi_dot([linalg.pinv(weight_mat.t().mm(weight_mat)), weight_mat.t(),
                              u.unsqueeze(1)]).squeeze(1)
        return v.mul_(target_sigma / dot(u, weight_mat @ v))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        """Move ``module.<name>`` to ``<name>_orig``, draw u and v from the global generator
        (u first, both normalized) and register the hooks.

        Raises:
            RuntimeError: ``name`` already has a spectral_norm hook.
            KeyError: ``name`` is not a parameter.
            ValueError: the parameter is None.
        """
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # the plain attribute keeps `module.weight` readable before the first forward
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Upgrades a version-0 state dict (``weight``, ``weight_orig``, ``weight_u``, no
    ``weight_v``) on load by solving for ``weight_v``.

    Args:
        fn: the module's ``SpectralNorm`` hook.
    """

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs) -> None:
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        weight_key = prefix + fn.name
        if (version is None and weight_key not in state_dict
                and all(weight_key + s in state_dict for s in ("_orig", "_u", "_v"))):
            return  # a current-format state dict without its metadata
        has_missing_keys = False
        for suffix in ("_orig", "", "_u"):
            key = weight_key + suffix
            if key not in state_dict:
                has_missing_keys = True
                if strict:
                    missing_keys.append(key)
        if has_missing_keys:
            return
        with no_grad():
            weight_orig = state_dict[weight_key + "_orig"]
            weight = state_dict.pop(weight_key)
            sigma = (weight_orig / weight).mean()
            weight_mat = fn.reshape_weight_to_matrix(weight_orig)
            u = state_dict[weight_key + "_u"]
            state_dict[weight_key + "_v"] = fn._solve_v_and_rescale(weight_mat, u, sigma)


class SpectralNormStateDictHook:
    """Records ``spectral_norm[<name>.version]`` in the state dict's metadata.

    Args:
        fn: the module's ``SpectralNorm`` hook.
    """

    def __init__(self, fn: SpectralNorm) -> None:
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata) -> None:
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self.fn._version


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Normalize ``module.<name>`` by its spectral norm, estimated by power iteration.

    Adds the parameter ``<name>_orig`` and the buffers ``<name>_u``, ``<name>_v`` (random
    unit vectors drawn from the global generator, as torch draws them); each training forward
    runs ``n_power_iterations`` steps and updates the buffers in place; eval uses them as they
    are.

    Args:
        module: the module.
        name: the weight's name.
        n_power_iterations: power-iteration steps per training forward.
        eps: the floor on norms when normalizing.
        dim: the dimension of the weight that indexes the output (default 0, 1 for
            transposed convolutions).

    Returns:
        ``module``.
    """
    SpectralNorm.apply(module, name, n_power_iterations, _default_dim(module, dim), eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``<name>`` becomes one Parameter holding the normalized weight.

    Raises:
        ValueError: no spectral_norm hook on ``name``.
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for k, hook in module._state_dict_hooks.items():
        if isinstance(hook, SpectralNormStateDictHook) and hook.fn.name == name:
            del module._state_dict_hooks[k]
            break
    for k, hook in module._load_state_dict_pre_hooks.items():
        if isinstance(hook, SpectralNormLoadStateDictPreHook) and hook.fn.name == name:
            del module._load_state_dict_pre_hooks[k]
            break
    return module
