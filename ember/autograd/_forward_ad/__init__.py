"""The machinery behind ``ember.autograd.forward_ad`` (loaded on the first dual level).

- ``_state``: where tangents live (an attribute of the tensor) and the switch that lets the
  formulas run ops on plain values;
- ``_install``: the wrappers that go in on entering a level and come out on leaving it;
- ``_apply``: what a wrapped ``Op.apply`` does with dual inputs; ``_fallback``: the
  double-vjp trick for ops without a formula; ``_custom``: users' Functions (``jvp``);
- ``_inplace``: in-place ops and ``__setitem__`` on dual tensors; ``_views``: the same
  strided view of a tangent; ``_nested``: tangents through ``create_graph`` backward
  passes (forward-over-reverse);
- ``_rules`` and ``rules_*``: the explicit tangent formulas, one module per op family.
"""
