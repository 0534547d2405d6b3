"""Complex numbers in ``ember.save`` / ``ember.load``: complex64 is a safetensors dtype;
complex128 is not, so it is stored as float64 pairs (real, imaginary) and marked complex128
in ember's description. Both round-trip exactly, checksums included."""
import numpy as np
import pytest

import ember

VALUES = np.array([[1 + 2j, 3 - 1j, np.nan + 1j], [0.5j, -2, complex(np.inf, -0.0)]])


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 3), (3, 2, 1)])
def test_complex_tensors_round_trip_exactly(tmp_path, dtype, shape):
    data = np.resize(VALUES, shape).astype(dtype) if shape != () else np.array(2 - 5j, dtype)
    x = ember.tensor(data, requires_grad=True)
    ember.save({"x": x, "t": x.detach().mT if x.dim() >= 2 else x.detach()}, tmp_path / "c")
    back = ember.load(tmp_path / "c")
    assert back["x"].dtype == getattr(ember, dtype) and back["x"].requires_grad
    np.testing.assert_array_equal(back["x"].detach().numpy(), data)
    assert back["x"].shape == tuple(shape)
    expected = data.swapaxes(-1, -2) if data.ndim >= 2 else data
    np.testing.assert_array_equal(back["t"].numpy(), expected)


def test_numpy_complex_arrays_and_scalars_round_trip(tmp_path):
    obj = {"array": VALUES, "scalar": np.complex128(complex(np.nan, -np.inf)),
           "small": np.complex64(1.5j)}
    ember.save(obj, tmp_path / "c")
    back = ember.load(tmp_path / "c")
    np.testing.assert_array_equal(back["array"], VALUES)
    assert back["array"].dtype == np.complex128
    assert type(back["scalar"]) is np.complex128 and type(back["small"]) is np.complex64
    assert np.isnan(back["scalar"].real) and back["scalar"].imag == -np.inf
    assert back["small"] == np.complex64(1.5j)


def test_complex128_is_stored_as_float64_pairs(tmp_path):
    from safetensors.numpy import load_file

    ember.save({"x": ember.tensor(VALUES)}, tmp_path / "c")
    stored = load_file(str(tmp_path / "c"))["x"]
    assert stored.dtype == np.float64 and stored.shape == VALUES.shape + (2,)
    np.testing.assert_array_equal(stored[..., 0], VALUES.real)
    np.testing.assert_array_equal(stored[..., 1], VALUES.imag)


def test_a_damaged_complex128_tensor_is_reported(tmp_path):
    path = tmp_path / "c"
    ember.save({"x": ember.tensor(VALUES)}, path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the tensor bytes, at the end of the file
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="corrupt"):
        ember.load(path)


def test_torch_reads_complex128_as_float64_pairs(torch, tmp_path):
    from safetensors.torch import load_file

    ember.save({"x": ember.tensor(VALUES)}, tmp_path / "c")
    restored = torch.view_as_complex(load_file(str(tmp_path / "c"))["x"])
    assert restored.dtype == torch.complex128
    np.testing.assert_array_equal(restored.numpy(), VALUES)
