"""Wrong inputs to the losses, convolutions and poolings, against torch: each call must
raise torch's exception type with torch's first message line (or give torch's result), and
warn as torch does. Cases from a sweep of typical mistakes (wrong rank, channel count, dtype
or batch size, out-of-range classes, empty inputs, bad options), the ones ember got wrong
and a sample of those it already got right."""
import pytest

from tests.oracle._bad_inputs import assert_same_outcome

CE = "F.cross_entropy"
NLL = "F.nll_loss"

LOSS_CASES = [
    # cross_entropy: shapes route first (a target shaped like the input holds probabilities),
    # then log_softmax's errors, then nll_loss's batch, rank, dtype and weight checks
    f"{CE}(X(4, 5), X(4, dt='i64', high=5))",
    f"{CE}(X(4, 5), X(dt='i64', high=5))",
    f"{CE}(X(4, 5), X(3, dt='i64', high=5))",
    f"{CE}(X(4, 5), X(4, 1, dt='i64', high=5))",
    f"{CE}(X(4, 5), X(4, 5, dt='i64', high=5))",
    f"{CE}(X(4, 5), X(4))",
    f"{CE}(X(4, 5), X(5))",
    f"{CE}(X(4, 5), X(3, 5))",
    f"{CE}(X(4, 5), X(4, dt='i32', high=5))",
    f"{CE}(X(4, 5), X(4, dt='b'))",
    f"{CE}(X(4, 5), X(4, dt='u8', high=5))",
    f"{CE}(X(4, 5), X(4, dt='i8', high=5))",
    f"{CE}(X(4, 5), X(4, dt='i64', low=5, high=6))",
    f"{CE}(X(4, 5, dt='i64'), X(4, dt='i64', high=5))",
    f"{CE}(X(4, 5, dt='i64'), X(3, dt='i64', high=5))",
    f"{CE}(X(4, 5, 2, dt='i64'), X(4, 2, dt='i64', high=5))",
    f"{CE}(X(4, 5, dt='b'), X(4, 5))",
    f"{CE}(X(), X(4, dt='i64', high=5))",
    f"{CE}(X(), X(dt='i64', high=5))",
    f"{CE}(X(), X())",
    f"{CE}(X(5), X(4, dt='i64', high=5))",
    f"{CE}(X(5), X(1, dt='i64', high=5))",
    f"{CE}(X(5), X(4, 5))",
    f"{CE}(X(0, 5), X(dt='i64'))",
    f"{CE}(X(0, 5), X())",
    f"{CE}(X(0, 5), X(4))",
    f"{CE}(X(4, 5, 2), X(4, dt='i64', high=5))",
    f"{CE}(X(4, 5, 2), X(4, 3, dt='i64', high=5))",
    f"{CE}(X(4, 5, 2), X(4, 2, dt='u8', high=5))",
    f"{CE}(X(4, 5, 2, 2), X(4, 2, 3, dt='i64', high=5))",
    f"{CE}(X(4, 5, 2, 2), X(4, 2, dt='i64', high=5))",
    f"{CE}(X(4, 5), X(4, dt='i64', high=5), weight=X(4))",
    f"{CE}(X(4, 5), X(4, dt='i64', high=5), weight=X(5, dt='i64'))",
    f"{CE}(X(4, 5), X(4, dt='i64', high=5), weight=X(5, dt='f64'))",
    f"{CE}(X(4, 5, 2), X(4, 2, dt='i64', high=5), weight=X(3))",
    f"{CE}(X(4, 5), X(4, 5), weight=X(4))",
    f"{CE}(X(4, 5), X(4, 5), weight=X(5, dt='f64', low=0.5, high=1))",
    f"{CE}(X(4, 5), X(4, 5), ignore_index=-1)",
    f"{CE}(X(4, 5), X(4, 5), ignore_index=2)",
    f"{CE}(X(4, 5), X(4, dt='i64', high=5), label_smoothing=-0.1)",
    f"{CE}(X(4, 5), X(4, dt='i64', high=5), label_smoothing=1.5)",
    f"{CE}(X(4, 5), X(4, 5), label_smoothing=1.5)",
    f"{CE}(X(5), X(1, dt='i64', high=5), label_smoothing=0.1)",
    f"{CE}(X(4, 5), X(4, dt='i64', low=5, high=6), label_smoothing=0.1)",
    f"{CE}(X(4, 5), X(4, dt='i64', high=5), reduction='foo')",
    f"{CE}(X(4, 5), 3)",
    f"{CE}([1.0], X(4, dt='i64'))",
    f"{CE}(X(4, 5), X(4, dt='i64', high=5), weight=[1.0] * 5)",
    # nll_loss: its own dtype and rank rules
    f"{NLL}(X(), X(4, dt='i64', high=5))",
    f"{NLL}(X(4, 5), X(4, dt='i64', high=5), weight=X(5, dt='i64'))",
    f"{NLL}(X(4, 5, dt='i64'), X(4, dt='i64', high=5))",
    f"{NLL}(X(4, 5, dt='b'), X(4, dt='i64', high=5))",
    f"{NLL}(X(4, 5, 2, 2), X(4, 2, dt='i64', high=5))",
    f"{NLL}(X(4, 5, 2, 2), X(4, 2, 2))",
    f"{NLL}(X(4, 5, 2, 2, 2), X(4, 2, 2, 1, dt='i64', high=5))",
    f"{NLL}(X(5), X(3, dt='i64', high=5))",
    f"{NLL}(X(4, 5), X(4, dt='f16'))",
    f"{NLL}(X(4, 5), X(4, dt='i16', high=5))",
    # the module forms go through the same checks
    "nn.CrossEntropyLoss()(X(4, 5), X(3, dt='i64', high=5))",
    "nn.CrossEntropyLoss(weight=X(5, low=0.5, high=1))(X(4, 5, dt='i64'), X(4, dt='i64'))",
    "nn.NLLLoss(weight=X(3, low=0.5, high=1))(X(4, 5), X(4, dt='i64', high=5))",
    # pointwise losses: the size warning, in-place writes into an input-like tensor
    "F.mse_loss(X(4, 3), X(3))",
    "F.mse_loss(X(4, 3), X(4, 2))",
    "F.mse_loss(X(4, 3), 1.0)",
    "F.l1_loss(X(4, 3), X(4, 1))",
    "F.soft_margin_loss(X(4, 3), X(2, 4, 3))",
    "F.soft_margin_loss(X(4, 3, dt='i64'), X(4, 3))",
    "F.soft_margin_loss(X(4, 3, dt='i64'), X(4, 3, dt='i64'))",
    "F.soft_margin_loss(X(4, 3, dt='i64'), X(4, 3, dt='f64'))",
    "F.soft_margin_loss(X(4, 3, dt='b'), X(4, 3))",
    "F.soft_margin_loss(X(4, 3), X(4, 3, dt='f64'))",
    "F.hinge_embedding_loss(X(4, 3, dt='i64', high=2), X(4, 3))",
    "F.hinge_embedding_loss(X(4, 3, dt='i64', high=2), X(4, 3), reduction='sum')",
    "F.hinge_embedding_loss(X(4, 3, dt='b'), X(4, 3))",
    "F.binary_cross_entropy(X(4, 3, low=0.1, high=0.9), X(4, 2))",
    "F.binary_cross_entropy_with_logits(X(4, 3), X(3))",
    "F.kl_div(X(4, 3, dt='i64'), X(4, 3, dt='i64'))",
    "F.ctc_loss(X(6, 2, 5).log_softmax(2), X(2, 3, dt='i64', low=1, high=5), [6, 6], [3, 3.0])",
    "F.ctc_loss(X(6, 2, 5).log_softmax(2), X(2, 3, dt='i64', low=1, high=5), [6.0, 6], [3, 3])",
]

CONV_CASES = [
    # operands of different dtypes: the bias first, then the kernel's own check
    "M('Conv2d', 3, 4, 3)(X(2, 3, 8, 8, dt='f64'))",
    "M('Conv2d', 3, 4, 3)(X(2, 3, 8, 8, dt='i64'))",
    "M('Conv2d', 3, 4, 3)(X(2, 3, 8, 8, dt='b'))",
    "M('Conv2d', 3, 4, 3)(X(2, 3, 8, 8, dt='f16'))",
    "M('Conv1d', 3, 4, 3, padding=1, padding_mode='reflect')(X(2, 3, 8, dt='i32'))",
    "M('Conv1d', 4, 4, 3, groups=2, padding='same')(X(2, 4, 8, dt='f64'))",
    "M('Conv3d', 3, 4, 2)(X(2, 3, 5, 5, 5, dt='b'))",
    "M('ConvTranspose1d', 3, 4, 3)(X(2, 3, 8, dt='f64'))",
    "M('ConvTranspose2d', 3, 4, 3)(X(2, 3, 5, 5, dt='i32'))",
    "M('ConvTranspose3d', 3, 4, 2)(X(2, 3, 4, 4, 4, dt='b'))",
    "F.conv2d(X(1, 3, 5, 5), X(4, 3, 3, 3, dt='f64'))",
    "F.conv2d(X(2, 3, 5, 5), X(4, 3, 3, 3, dt='f64'))",
    "F.conv2d(X(1, 3, 5, 5), X(4, 3, 3, 3), X(4, dt='f64'))",
    "F.conv2d(X(1, 4, 5, 5), X(4, 2, 3, 3, dt='i64'), groups=2)",
    "F.conv2d(X(1, 3, 5, 5, dt='i64'), X(4, 3, 3, 3, dt='i64'))",
    "F.conv2d(X(1, 3, 5, 5, dt='b'), X(4, 3, 3, 3, dt='b'))",
    "F.conv1d(X(1, 3, 5, dt='f64'), X(4, 3, 3), X(4), padding='same')",
    "F.conv_transpose2d(X(1, 3, 5, 5, dt='i64'), X(3, 4, 3, 3, dt='i64'), X(4))",
    "F.conv_transpose3d(X(1, 3, 3, 3, 3), X(3, 4, 2, 2, 2), X(4, dt='f64'))",
    # shapes and options
    "M('Conv2d', 3, 4, 3)(X(2, 5, 8, 8))",
    "M('Conv2d', 3, 4, 3)(X(2, 3))",
    "M('Conv2d', 3, 4, 5)(X(1, 3, 4, 4))",
    "M('ConvTranspose1d', 3, 4, 3)(X(2, 3, 0))",
    "M('ConvTranspose2d', 3, 4, 3, stride=2, output_padding=1)(X(2, 3, 5, 0))",
    "F.conv1d(X(1, 3, 5), X(4, 3, 3, 3))",
    "F.conv2d(X(1, 3, 5, 5), X(4, 3, 3))",
    "F.conv2d(X(1, 3, 5, 5), X(4, 3, 3, 3), dilation=0)",
    "F.conv2d(X(2, 3, 5, 5), X(4, 3, 3, 3), dilation=0)",
    "F.conv2d(X(1, 3, 5, 5), X(4, 3, 3, 3), dilation=-1)",
    "F.conv1d(X(1, 3, 5), X(4, 3, 3), dilation=0)",
    "F.conv2d(X(1, 3, 5, 5), X(4, 3, 3, 3), dilation=0, padding=-1)",
    "F.conv_transpose1d(X(1, 3, 5), X(3, 4, 3), dilation=0)",
    "F.conv_transpose3d(X(1, 3, 3, 3, 3), X(3, 4, 2, 2, 2), dilation=0)",
    "F.conv_transpose1d(X(1, 3, 5), X(3, 4, 3), padding='same')",
    "F.conv_transpose2d(X(1, 3, 5, 5), X(3, 4, 3, 3), groups=2)",
    "F.conv_transpose2d(X(1, 3, 5, 5), X(3, 4, 3, 3), X(3))",
    "F.conv2d(X(1, 3, 5, 5), X(4, 3, 3, 3), padding='same', stride=2)",
    "F.conv1d(X(1, 3, 5), X(4, 3, 2), padding='same', dilation=-1)",
    "nn.Conv2d(3, 4, 3, groups=2)",
    "nn.Conv2d(3, 4, 3, padding='same', stride=2)",
    # unfold / fold: size(1), size(2) read first, then rank and empty dims, then dtypes
    "F.unfold(X(4, 4), 2)", "F.unfold(X(), 2)", "F.unfold(X(2, 0), 2)",
    "F.unfold(X(2, 3, 4, 0), 2)", "F.unfold(X(0, 2, 4), 2)",
    "F.unfold(X(1, 3, 4, 4, dt='i64'), 2)", "F.unfold(X(1, 3, 4, 4, dt='b'), 2)",
    "F.unfold(X(1, 3, 4, 4), 2, stride=0, padding=-1)",
    "F.fold(X(2, 12, 0), (4, 4), 2)", "F.fold(X(2, 12, 9), (1, 1), 2)",
    "F.fold(X(2, 12, 9, dt='i32'), (4, 4), 2)",
]

POOL_CASES = [
    # kernels: which dtypes each takes
    "F.max_pool1d(X(2, 3, 8, dt='i64'), 2)", "F.max_pool1d(X(2, 3, 8, dt='b'), 2)",
    "F.max_pool1d(X(2, 3, 8, dt='i64'), 2, return_indices=True)[0]",
    "F.max_pool2d(X(2, 3, 8, 8, dt='b'), 2)", "F.max_pool3d(X(1, 3, 4, 4, 4, dt='c64'), 2)",
    "F.max_pool2d(X(2, 3, 8, 8, dt='u8', high=9), 2)",
    "F.avg_pool1d(X(2, 3, 8, dt='i32'), 2)", "F.avg_pool2d(X(2, 3, 8, 8, dt='b'), 2)",
    "F.avg_pool2d(X(2, 3, 8, 8, dt='i64'), 2)", "F.avg_pool3d(X(1, 3, 4, 4, 4, dt='f16'), 2)",
    "F.adaptive_avg_pool1d(X(2, 3, 8, dt='i64'), 3)",
    "F.adaptive_avg_pool2d(X(2, 3, 8, 8, dt='b'), 3)",
    "F.adaptive_avg_pool3d(X(1, 3, 4, 4, 4, dt='i32'), 2)",
    "F.adaptive_max_pool2d(X(2, 3, 8, 8, dt='i64'), 3)",
    "F.adaptive_max_pool3d(X(1, 3, 4, 4, 4, dt='b'), 2)",
    "F.lp_pool2d(X(1, 3, 4, 4, dt='i32'), 2, 2)", "F.lp_pool3d(X(1, 3, 4, 4, 4, dt='f16'), 2, 2)",
    "F.local_response_norm(X(2, 3, 4, 4, dt='b'), 2)",
    # ranks and empty dims
    "F.max_pool1d(X(2, 3, 0), 2)", "F.max_pool1d(X(0, 2), 2)",
    "F.max_pool1d(X(8), 3, return_indices=True)",
    "F.max_pool1d(X(2, 3, 0), 2, return_indices=True)",
    "F.max_pool2d(X(2, 3, 8, 0), 2)", "F.max_pool2d(X(8, 8), 2)",
    "F.avg_pool1d(X(2, 3, 0), 2)", "F.avg_pool2d(X(8, 8), 2)", "F.avg_pool2d(X(), 2)",
    "F.avg_pool2d(X(2, 2, 3, 8, 8), 2)", "F.lp_pool2d(X(4, 4), 2, 2)",
    "F.adaptive_avg_pool2d(X(2, 3, 4, 0), 2)",
    # options, in torch's order and words
    "F.max_pool1d(X(1, 3, 6), 0)", "F.max_pool1d(X(1, 3, 6), 2, stride=-1)",
    "F.max_pool1d(X(1, 3, 6), (2, 2))", "F.max_pool1d(X(1, 3, 6), 2, padding=-1)",
    "F.max_pool1d(X(1, 3, 6), 2, dilation=0)", "F.max_pool1d(X(1, 3, 6), 7)",
    "F.max_pool1d(X(1, 3, 6), 2, return_indices=True, dilation=0)",
    "F.max_pool1d(X(1, 3, 6), (2, 2), return_indices=True)",
    "F.max_pool1d(X(1, 3, 6), 7, return_indices=True)",
    "F.max_pool2d(X(1, 3, 6, 6), -1)", "F.max_pool2d(X(1, 3, 6, 6), 2, stride=-1)",
    "F.max_pool2d(X(1, 3, 6, 6), 2, padding=-1)", "F.max_pool2d(X(1, 3, 6, 6), 2, dilation=0)",
    "F.max_pool2d(X(1, 3, 6, 6), 3, dilation=3, padding=3)",
    "F.max_pool2d(X(1, 3, 6, 6), 2, padding=(1, 1, 1, 1))", "F.max_pool2d(X(1, 3, 6, 6), [])",
    "F.max_pool2d(X(1, 3, 4, 4), 5)", "F.max_pool2d(X(1, 3, 4, 4), 2, padding=2)",
    "F.avg_pool1d(X(1, 3, 6), (2, 2))", "F.avg_pool1d(X(1, 3, 6), 2, padding=-1)",
    "F.avg_pool2d(X(1, 3, 6, 6), 2, divisor_override=0)", "F.avg_pool2d(X(1, 3, 4, 4), 5)",
    "F.adaptive_avg_pool1d(X(1, 3, 4), -1)", "F.adaptive_avg_pool2d(X(1, 3, 4, 4), -1)",
    "F.adaptive_max_pool1d(X(1, 3, 4), -1)", "F.adaptive_max_pool2d(X(1, 3, 4, 4), -1)",
    "F.local_response_norm(X(2, 3, 4), 0)",
    # interpolation
    "F.interpolate(X(1, 2, 3), size=4, scale_factor=2)", "F.interpolate(X(1, 2, 3))",
    "F.interpolate(X(3, 4), scale_factor=2)", "F.interpolate(X(), size=4)",
    "F.interpolate(X(1, 2, 3, 3), scale_factor=2, mode='linear')",
    "F.interpolate(X(1, 2, 3), scale_factor=2, mode='bicubic')",
    "F.interpolate(X(1, 2, 3), scale_factor=2, mode='foo')",
    "F.interpolate(X(1, 2, 3), size=4, recompute_scale_factor=True)",
    "F.interpolate(X(1, 2, 3), scale_factor=2, mode='linear', antialias=True)",
    "F.interpolate(X(1, 2, 3), size=4.5)", "F.interpolate(X(1, 2, 3), size=[4.0])",
    "F.interpolate(X(1, 2, 3), size=4.5, mode='linear')",
    "F.interpolate(X(1, 2, 3), size=X(1, dt='i64', low=4, high=5))",
    "F.interpolate(X(1, 2, 3), size=(0,))", "F.interpolate(X(1, 2, 3), scale_factor=-1.5)",
    "F.interpolate(X(2, 2, 0), size=4)", "F.interpolate(X(2, 0, 4, 4), size=4)",
    "F.interpolate(X(1, 2, 3, 0), size=4, mode='bilinear')",
    "F.interpolate(X(1, 2, 3, dt='i64'), size=4)", "F.interpolate(X(1, 2, 3, dt='b'), size=4)",
    "F.interpolate(X(1, 2, 3, dt='u8', high=9), size=4)",
    "F.interpolate(X(1, 2, 3, dt='u8', high=9), size=4, mode='linear')",
    "F.interpolate(X(1, 2, 3, 3, dt='i32'), size=4, mode='bicubic')",
    "F.interpolate(X(1, 2, 3, dt='i64'), size=4, mode='area')",
    "F.interpolate(X(1, 2, 3), size=-1, mode='area')",
    "F.upsample(X(1, 2, 3), scale_factor=2)", "F.upsample_nearest(X(1, 2, 3), scale_factor=2)",
    "F.upsample_bilinear(X(1, 2, 3), scale_factor=2)",
    "M('Upsample', scale_factor=2, mode='trilinear')(X(2, 1, 2, 3, 3, 3))",
    "M('UpsamplingNearest2d', scale_factor=2)(X(4, 4))",
]


@pytest.mark.parametrize("src", LOSS_CASES)
def test_loss_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", CONV_CASES)
def test_convolution_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)


@pytest.mark.parametrize("src", POOL_CASES)
def test_pooling_and_interpolation_bad_input_matches_torch(torch, src):
    assert_same_outcome(torch, src)
