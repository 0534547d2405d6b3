"""The fused ops behind ``ember.nn.functional``: one ``Op`` (NumPy forward and backward)
per file, for the layers and losses where one node beats a chain of primitives."""

# their Tensor-level formulas, for create_graph
from . import derivatives, derivatives_more, derivatives_rest, derivatives_rnn  # noqa: E402,F401
