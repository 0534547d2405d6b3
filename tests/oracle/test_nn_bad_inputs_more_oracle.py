"""Wrong inputs to the norms, activations, embeddings, recurrent layers, padding, attention
and the other nn layers, against torch (as ``test_nn_bad_inputs_oracle``): the same
exception type and first message line, or the same result, and the same warnings."""
import subprocess
import sys

import pytest

from tests.oracle._bad_inputs import assert_same_outcome

NORM_CASES = [
    # mixed dtypes: torch's "mixed type" rule (float32 parameters for float16 input) first
    "M('LayerNorm', 5)(X(2, 3, 5, dt='i64'))", "M('LayerNorm', 5)(X(2, 3, 5, dt='b'))",
    "M('LayerNorm', 5)(X(2, 3, 5, dt='f16'))", "M('LayerNorm', 5)(X(2, 3, 5, dt='f64'))",
    "M('GroupNorm', 2, 4)(X(2, 4, 5, dt='i32'))",
    "F.layer_norm(X(2, 3), (3,), X(3), X(3, dt='f64'))",
    "F.layer_norm(X(2, 3, dt='f16'), (3,), X(3, dt='f16'), X(3))",
    "F.layer_norm(X(2, 3, dt='f16'), (3,), None, X(3))",
    "F.layer_norm(X(2, 3, dt='f64'), (3,), None, X(3, dt='f16'))",
    "F.layer_norm(X(2, 3, dt='c64'), (3,))",
    "F.layer_norm(X(2, 3, dt='i64'), (3,), X(3, dt='i64'))",
    "F.group_norm(X(2, 4, 3, dt='f64'), 2, X(4), X(4, dt='f64'))",
    "F.group_norm(X(2, 4, 3), 2, X(4), X(3))", "F.group_norm(X(2, 4, 3), 2, None, X(3))",
    "F.group_norm(X(2, 4, 0), 2, X(4), X(4))",
    "F.batch_norm(X(4, 3, dt='f16'), X(3), X(3, low=0.1), X(3, dt='f16'))",
    "F.batch_norm(X(4, 3, dt='f64'), X(3), X(3, low=0.1), X(3, dt='f64'), X(3, dt='f64'))",
    "F.batch_norm(X(4, 3, dt='c64'), None, None, X(3), training=True)",
    "F.batch_norm(X(4, 3, dt='i64'), None, None, X(3), training=True)",
    "F.batch_norm(X(4, 3), X(3, 1), X(3, 1, low=0.1))",
    "F.batch_norm(X(4), X(4), X(4, low=0.1))", "F.batch_norm(X(4), None, None, training=True)",
    "F.instance_norm(X(2, 3, 4), weight=X(3), bias=X(3, dt='f64'))",
    "F.instance_norm(X(0, 3, 6), weight=X(3))", "F.instance_norm(X(0, 3, 6))",
    "F.instance_norm(X(2, 3, 0), weight=X(3))", "F.instance_norm(X(2, 3, 1))",
    "F.layer_norm(X(2, 3), 3)", "F.layer_norm(X(2, 3), ())", "F.layer_norm(X(2, 3), [3.0])",
    "F.layer_norm(X(2, 3), (4,))", "F.rms_norm(X(2, 3), 3)", "F.rms_norm(X(2, 3), [])",
    "F.rms_norm(X(2, 3, dt='i64'), (3,))",
    "M('CrossMapLRN2d', 3)(X(2, 3, 5, 5, dt='i64'))",
    "M('CrossMapLRN2d', 3)(X(2, 3, 5, 5, dt='b'))",
    "M('CrossMapLRN2d', 3)(X(2, 3, 5, 5, dt='c64'))",
    "M('BatchNorm2d', 3)(X(2, 3, 5))", "M('BatchNorm1d', 3)(X(1, 3))",
]

ACTIVATION_CASES = [
    "F.hardtanh(X(3, dt='b'))", "F.relu6(X(3, dt='b'))", "F.hardtanh(X(3, dt='u8', high=9))",
    "F.relu6(X(3, dt='u8', high=9))", "F.hardtanh(X(3), 1.0, -1.0)",
    "F.hardtanh_(X(3), 1.0, -1.0)", "F.hardtanh(X(3, dt='c64'))",
    "F.threshold(X(3, dt='b'), 0.5, 2.5)", "F.threshold(X(3, dt='c64'), 0.5, 2.5)",
    "F.threshold(X(3, dt='i64'), 0, 2)",
    "F.glu(X(2, 4, dt='i64'))", "F.glu(X(2, 4, dt='b'))", "F.glu(X(2, 4), dim=3)",
    "F.glu(X(4), dim=1)", "F.glu(X(2, 3))", "F.glu(X())",
    "F.softmax(X(2, 3), dim=1.0)", "F.softmax(X(2, 3), 'a')", "F.log_softmax(X(2, 3), dim=[1])",
    "F.softmin(X(2, 3), dim=1.0)", "F.softmax(X(2, 3), dim=2)", "F.softmax(X(2, 3))",
    "F.gelu(X(3), 'tanh')", "F.gelu(X(3), approximate='foo')", "F.gelu(X(3, dt='i64'))",
    "F.leaky_relu(X(3, dt='i64'))", "F.elu(X(3, dt='b'))",
    "M('PReLU', 3)(X(2, 4))", "M('Softmax2d')(X(3, 4))",
]

EMBEDDING_CASES = [
    "F.embedding(X(2, 3, dt='u8', high=10), X(10, 3))",
    "F.embedding(X(2, 3, dt='i16', high=10), X(10, 3))",
    "F.embedding(X(2, 3, dt='b'), X(10, 3))", "F.embedding(X(2, 3), X(10, 3))",
    "F.embedding(X(2, 3, dt='i32', high=10), X(10, 3))",
    "M('Embedding', 10, 3, max_norm=1.0)(X(2, 3))",
    "M('Embedding', 10, 3, max_norm=1.0)(X(2, 3, dt='b'))",
    "M('Embedding', 10, 3, max_norm=1.0)(X(2, 3, dt='i64', low=10, high=11))",
    "M('Embedding', 10, 3, max_norm=1.0)(X(2, 3, dt='i64', low=-11, high=-10))",
    "nn.Embedding.from_pretrained(X(10))", "nn.EmbeddingBag.from_pretrained(X(10))",
    "nn.Embedding(10, 3, padding_idx=10)",
    "M('EmbeddingBag', 10, 3)(X(2, 3, dt='i64', high=10), X(2, dt='i64', high=1))",
    "M('EmbeddingBag', 10, 3)(X(6, dt='i64', high=10), X(2))",
    "M('EmbeddingBag', 10, 3)(X(6, dt='i64', high=10), X(2, dt='u8', high=1))",
    "M('EmbeddingBag', 10, 3, mode='max')(X(6, dt='i64', low=10, high=11), lib.tensor([0, 2]))",
    "M('EmbeddingBag', 10, 3, mode='sum')(X(6, dt='i64', low=10, high=11), lib.tensor([0, 2]),"
    " per_sample_weights=X(6, dt='f64'))",
    "F.embedding_bag(X(6, dt='i64', high=10), X(10, 3, dt='i32'), lib.tensor([0, 2]))",
    "F.embedding_bag(X(6, dt='i64', high=10), X(10, 3, dt='f64'), lib.tensor([0, 2]),"
    " per_sample_weights=X(6))",
]

RECURRENT_CASES = [
    "M('RNN', 4, 5)(X(3, 2, 4), X(1, 2, 5, dt='f64'))",
    "M('GRU', 4, 5)(X(3, 2, 4), X(1, 2, 5, dt='i64'))",
    "M('LSTM', 4, 5)(X(3, 2, 4), (X(1, 2, 5), X(1, 2, 5, dt='f64')))",
    "M('LSTM', 4, 5).double()(X(3, 2, 4, dt='f64'), (X(1, 2, 5), X(1, 2, 5, dt='f64')))",
    "M('LSTM', 4, 5).double()(X(3, 2, 4, dt='f64'), (X(1, 2, 5, dt='f64'), X(1, 2, 5)))",
    "M('RNN', 4, 5)(X(3, 2, 4, dt='f64'))", "M('LSTM', 4, 5)(X(3, 2, 3))",
    "M('RNN', 4, 5)(X(3, 2, 4), X(1, 3, 5))",
    "M('LSTMCell', 4, 5)(X(2, 4), X(2, 5))", "M('LSTMCell', 4, 5)(X(2, 4), (X(2, 5),))",
    "M('LSTMCell', 4, 5)(X(4), (X(5),))",
    "M('LSTMCell', 4, 5)(X(2, 4), (X(2, 5), X(2, 5), X(2, 5)))",
    "M('LSTMCell', 4, 5)(X(4), (X(5), X(5), X(5)))",
    "M('LSTMCell', 4, 5)(X(2, 4), [X(2, 5), X(2, 5)])", "M('LSTMCell', 4, 5)(X(4), X(5))",
    "M('RNNCell', 4, 5)(X(2, 4), X(3, 5))", "M('GRUCell', 4, 5)(X(2, 4, dt='f64'))",
]

PAD_CASES = [
    "F.pad(X(1, 2, 3), 1)", "F.pad(X(1, 2, 3), (1, 1), value='a')",
    "F.pad(X(1, 2, 3), (1.5, 1))", "F.pad(X(1, 2, 3), (1, 1, 1))",
    "F.pad(X(1, 2, 3, dt='b'), (3, 3), mode='reflect')",
    "F.pad(X(1, 0, 3, dt='b'), (1, 1), mode='replicate')",
    "F.pad(X(1, 2, 3, dt='b'), (-4, 0), mode='replicate')",
    "F.pad(X(1, 2, 3, dt='b'), (1, 1), mode='reflect')",
    "F.pad(X(1, 2, 3), (4, 4), mode='circular')", "M('ReflectionPad2d', 4)(X(2, 3, 4, 4))",
    "M('ZeroPad2d', (1, 2, 3))(X(1, 2, 3, 3))",
]

ATTENTION_CASES = [
    "F.scaled_dot_product_attention(X(3, 4), X(5, 3), X(5, 6))",
    "F.scaled_dot_product_attention(X(2, 3, 4), X(2, 5, 3), X(2, 5, 6))",
    "F.scaled_dot_product_attention(X(2, 2, 3, 4), X(1, 2, 5, 3), X(1, 2, 5, 6))",
    "F.scaled_dot_product_attention(X(3, 4), X(5, 4), X(4, 6))",
    "F.scaled_dot_product_attention(X(2, 3, 4), X(2, 5, 4), X(2, 4, 6))",
    "F.scaled_dot_product_attention(X(2, 3, 4), X(2, 5, 4), X(3, 5, 6))",
    "F.scaled_dot_product_attention(X(4), X(5, 4), X(5, 4))",
    "F.scaled_dot_product_attention(X(2, 3, 4, dt='i64'), X(2, 5, 4, dt='i64'),"
    " X(2, 5, 6, dt='i64'))",
    "F.scaled_dot_product_attention(X(2, 3, 4), X(2, 5, 4), X(2, 5, 6), attn_mask=X(3, 4))",
    "F.scaled_dot_product_attention(X(2, 3, 4), X(2, 5, 4), X(2, 5, 6),"
    " attn_mask=X(3, 4, dt='b'))",
    "F.scaled_dot_product_attention(X(2, 3, 4), X(2, 5, 4), X(2, 5, 6), dropout_p=1.5)",
    "F.scaled_dot_product_attention(X(2, 3, 4), X(2, 5, 4), X(2, 5, 6), dropout_p=-0.5)",
    "F.scaled_dot_product_attention(X(1, 4, 3, 4), X(1, 2, 5, 4), X(1, 2, 5, 6))",
    "M('MultiheadAttention', 8, 2)(X(3, 2, 8), X(4, 2, 7), X(4, 2, 8))",
    "M('MultiheadAttention', 8, 2)(X(3, 2, 8), X(4, 2, 8), X(4, 2, 8),"
    " key_padding_mask=X(2, 5, dt='b'))",
    "M('TransformerEncoderLayer', 8, 2, 16, dropout=0.0)(X(3, 2, 7))",
]

OTHER_CASES = [
    "F.bilinear(X(2, 4), X(2, 5), X(4, 5))", "F.bilinear(X(2, 4), X(2, 5), X(3, 5, 4))",
    "F.bilinear(X(2, 4, dt='i32'), X(2, 5, dt='i32'), X(3, 4, 5, dt='i32'))",
    "F.bilinear(X(2, 4, dt='b'), X(2, 5, dt='b'), X(3, 4, 5, dt='b'))",
    "M('Bilinear', 4, 5, 3)(X(), X())", "nn.Bilinear(0, 4, 3)",
    "F.linear(X(2, 4), X(3, 4), X(4))", "F.linear(X(4), X(3, 4), X(4))",
    "F.linear(X(2, 5, 4), X(3, 4), X(2))", "F.linear(X(2, 4), X())",
    "F.linear(X(2, 4), X(3, 4, dt='f64'))",
    "F.affine_grid(X(2, 2, 3), (2, 3, 4, 4, 4), align_corners=False)",
    "F.affine_grid(X(2, 2, 3), lib.Size([2, 3, 4]), align_corners=False)",
    "F.affine_grid(X(2, 2, 3), [3, 3, 4, 4], align_corners=False)",
    "F.affine_grid(X(2, 2, 3), (2, 3, 0, 4), align_corners=False)",
    "F.grid_sample(X(1, 2, 4, 4, dt='i64'), X(1, 3, 3, 2, dt='i64'), align_corners=False)",
    "F.grid_sample(X(1, 2, 4, 4, 4), X(1, 3, 3, 3, 3), mode='bicubic', align_corners=False)",
    "F.pixel_unshuffle(X(0, 2, 4, 4), 2)", "F.pixel_unshuffle(X(2, 2, 4, 0), 2)",
    "F.pixel_shuffle(X(2, 6, 3, 3), 2)",
    "F.native_channel_shuffle(X(1, 4, 2, 2), 3)", "F.native_channel_shuffle(X(1, 4, 2, 2), 2)",
    "nn.Unflatten(1, 4)", "nn.Unflatten(1, [2.0, 2])", "repr(nn.Unflatten(1, [2, 2]))",
    "M('Dropout2d', 0.0)(X(3, 4))", "F.dropout(X(3), p=1.5)", "F.pdist(X(3, 2, dt='f16'))",
    "F.pdist(X(1, 2, dt='f16'))",
]


@pytest.mark.parametrize("src", NORM_CASES)
def test_norm_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", ACTIVATION_CASES)
def test_activation_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", EMBEDDING_CASES)
def test_embedding_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", [
    "F.embedding(X(2, 3, dt='i64', low=10, high=11), X(10, 3))",
    "M('Embedding', 10, 3)(X(2, 3, dt='i64', low=-1, high=0))",
    "M('Embedding', 10, 3, max_norm=1.0)(X(2, 3, dt='i64', low=-1, high=0))",
])
def test_embedding_id_out_of_range_starts_with_torchs_message(torch, src):
    # ember's style adds the id and the table size after torch's words
    assert_same_outcome(torch, src, prefix=True)


@pytest.mark.parametrize("src", RECURRENT_CASES)
def test_recurrent_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", PAD_CASES)
def test_padding_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", ATTENTION_CASES)
def test_attention_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", OTHER_CASES)
def test_other_layer_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


WARN_ONCE = """
import sys, warnings
lib = __import__(sys.argv[1])
F = lib.nn.functional
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for dtype in (lib.float64, lib.float16):
        F.rms_norm(lib.ones(2, 3, dtype=dtype), (3,), lib.ones(3))
    for _ in range(2):
        F.conv1d(lib.ones(1, 3, 5), lib.ones(4, 3, 2), padding="same")
        F.conv1d(lib.ones(1, 3, 5), lib.ones(4, 3, 3), padding="same")
for w in caught:
    print(w.category.__name__, str(w.message).split(" (Triggered")[0])
"""


def test_mismatch_and_same_padding_warnings_come_once_per_process_like_torch(torch):
    runs = [subprocess.run([sys.executable, "-c", WARN_ONCE, lib], capture_output=True,
                           text=True, timeout=120) for lib in ("torch", "ember")]
    lines = [run.stdout.splitlines() for run in runs]
    assert len(lines[0]) == 2 and lines[0] == lines[1], (lines, runs[1].stderr)
