"""LBFGS without torch: known optima (Rosenbrock, least squares, a hand-traced quadratic),
closure call counts and stopping rules, the state's layout, state-dict round trips and
torch's errors. tests/oracle/test_lbfgs_oracle.py compares trajectories with torch."""

import copy

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from tests.helpers import assert_close


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def make_closure(opt, loss_fn, calls=None):
    def closure():
        if calls is not None:
            calls.append(1)
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    return closure


def least_squares(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((30, 6)).astype(dtype)
    b = rng.standard_normal(30).astype(dtype)
    return A, b, np.linalg.lstsq(A.astype(np.float64), b.astype(np.float64), rcond=None)[0]


# --------------------------------------------------------------------------- optima
def test_strong_wolfe_finds_the_rosenbrock_minimum():
    x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    # the default tolerance_change stops at a loss change below 1e-9 (x within ~4e-5)
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", tolerance_change=1e-14)
    closure = make_closure(opt, lambda: rosenbrock(x))
    for _ in range(10):
        opt.step(closure)
    assert_close(x, np.array([1.0, 1.0]), rtol=0, atol=1e-7)
    assert float(rosenbrock(x)) < 1e-15


def test_fixed_step_lbfgs_leaves_the_rosenbrock_valley_start():
    # without a line search the method is cruder, but it still makes steady progress
    x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    opt = optim.LBFGS([x], lr=0.5)
    closure = make_closure(opt, lambda: rosenbrock(x))
    first = float(opt.step(closure))
    for _ in range(20):
        last = float(opt.step(closure))
    assert first == pytest.approx(24.2)
    assert last < 1e-3 * first


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_least_squares_reaches_the_lstsq_solution(line_search_fn):
    A, b, x_star = least_squares()
    A_t, b_t = ember.tensor(A), ember.tensor(b)
    # the unknowns split over two parameters of different shapes: the flat vector spans both
    w1 = Parameter(ember.zeros(2, 2, dtype=ember.float64))
    w2 = Parameter(ember.zeros(2, dtype=ember.float64))

    def loss_fn():
        w = ember.cat([w1.reshape(-1), w2])
        r = A_t @ w - b_t
        return (r * r).sum() * 0.5

    opt = optim.LBFGS([w1, w2], line_search_fn=line_search_fn, tolerance_change=1e-14)
    closure = make_closure(opt, loss_fn)
    for _ in range(3):
        opt.step(closure)
    assert_close(ember.cat([w1.reshape(-1), w2]), x_star, rtol=0, atol=1e-7)


def test_float32_parameters_stay_float32_and_converge():
    A, b, x_star = least_squares(np.float32)
    A_t, b_t = ember.tensor(A), ember.tensor(b)
    w = Parameter(ember.zeros(6))
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe")
    closure = make_closure(opt, lambda: ((A_t @ w - b_t) ** 2).sum())
    for _ in range(3):
        opt.step(closure)
    assert w.dtype == ember.float32
    assert_close(w, x_star.astype(np.float32), rtol=1e-4, atol=1e-4)
    state = opt.state[w]
    assert state["d"].dtype == ember.float32
    assert all(s.dtype == ember.float32 for s in state["old_dirs"])
    assert state["H_diag"].dtype == ember.float32 and state["H_diag"].ndim == 0


def test_quadratic_is_solved_in_two_iterations_by_hand():
    # f = (x - 1)^2 from x = 4: g = 6, the first step is t = min(1, 1/|g|) = 1/6 along -g,
    # landing at x = 3 (g = 4); then s = -1, y = -2, H_diag = y.s / y.y = 0.5 (the exact
    # inverse curvature), so the second step (t = lr = 1) lands on the minimum
    x = Parameter(ember.tensor([4.0], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], max_iter=2, max_eval=10)  # the default max_eval would be 2
    loss = opt.step(make_closure(opt, lambda: ((x - 1) ** 2).sum(), calls))
    assert float(loss) == 9.0  # the loss before the step
    assert x.tolist() == [1.0]
    assert len(calls) == 2  # no evaluation after the last iteration
    state = opt.state[x]
    assert state["func_evals"] == 2 and state["n_iter"] == 2
    assert float(state["H_diag"]) == 0.5
    assert state["t"] == 1  # the learning rate, a Python number as in torch
    assert float(state["ro"][0]) == 0.5  # 1 / y.s
    assert state["old_dirs"][0].tolist() == [-2.0]
    assert state["old_stps"][0].tolist() == [-1.0]
    assert state["prev_loss"] == 4.0


# --------------------------------------------------------------------------- counts and stops
def test_fixed_step_evaluates_once_per_iteration_except_the_last():
    x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], max_iter=5, lr=0.1)
    closure = make_closure(opt, lambda: rosenbrock(x), calls)
    opt.step(closure)
    assert len(calls) == 5
    assert opt.state[x]["func_evals"] == 5 and opt.state[x]["n_iter"] == 5
    opt.step(closure)
    assert len(calls) == 10
    assert opt.state[x]["func_evals"] == 10 and opt.state[x]["n_iter"] == 10


def test_max_eval_caps_the_evaluations_of_a_step():
    x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], max_iter=100, max_eval=7, lr=0.1)
    opt.step(make_closure(opt, lambda: rosenbrock(x), calls))
    assert len(calls) == 7
    assert opt.state[x]["n_iter"] == 6


def test_default_max_eval_is_five_quarters_of_max_iter():
    x = Parameter(ember.zeros(2))
    assert optim.LBFGS([x]).param_groups[0]["max_eval"] == 25
    assert optim.LBFGS([x], max_iter=7).param_groups[0]["max_eval"] == 8
    assert optim.LBFGS([x], max_iter=7, max_eval=3).param_groups[0]["max_eval"] == 3


def test_line_search_counts_every_closure_call():
    x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe")
    closure = make_closure(opt, lambda: rosenbrock(x), calls)
    opt.step(closure)
    assert len(calls) == opt.state[x]["func_evals"]
    # the search may evaluate more than once per iteration; the cap is max_eval (25), plus
    # at most the one evaluation a search makes before checking its budget
    assert opt.state[x]["n_iter"] < len(calls) <= 26
    opt.step(closure)
    assert len(calls) == opt.state[x]["func_evals"]


def test_a_stationary_start_evaluates_once_and_moves_nothing():
    x = Parameter(ember.tensor([1.0, 1.0]))
    calls = []
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe")
    loss = opt.step(make_closure(opt, lambda: rosenbrock(x), calls))
    assert float(loss) == 0.0
    assert len(calls) == 1
    assert x.tolist() == [1.0, 1.0]
    assert opt.state[x] == {"func_evals": 1, "n_iter": 0}


def test_tolerance_grad_stops_when_the_gradient_is_small():
    x = Parameter(ember.tensor([3.0], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], max_iter=50, tolerance_grad=1e-3)
    opt.step(make_closure(opt, lambda: ((x - 1) ** 2).sum(), calls))
    # exact on a 1-D quadratic after two iterations: the gradient is then 0
    assert len(calls) == 3 and opt.state[x]["n_iter"] == 2


def test_no_descent_direction_stops_before_moving():
    # g = 1 at x = 0.5, so g.d = -1 is above -tolerance_change = -10: no step is taken
    x = Parameter(ember.tensor([0.5], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], tolerance_change=10.0)
    opt.step(make_closure(opt, lambda: (x**2).sum(), calls))
    assert x.tolist() == [0.5] and len(calls) == 1
    state = opt.state[x]
    assert state["n_iter"] == 1 and state["d"].tolist() == [-1.0]
    assert state["t"] == 1.0 and isinstance(state["t"], float)  # min(1.0, 1 / |g|) * lr


def test_a_negligible_update_stops_the_step():
    # lr = 1e-3 moves x by 1e-3 <= tolerance_change = 1e-2, although the loss changes by ~0.2
    x = Parameter(ember.tensor([1.0], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], lr=1e-3, tolerance_change=1e-2)
    opt.step(make_closure(opt, lambda: (100 * x**2).sum(), calls))
    assert x.tolist() == [pytest.approx(0.999, abs=1e-15)]
    assert len(calls) == 2 and opt.state[x]["n_iter"] == 1


def test_a_negligible_loss_change_stops_the_step():
    # f = 4 x^2 from x = 0.5: g = 4, so the first step (t = 1 / |g|) jumps to -0.5, a move of
    # 1 > tolerance_change, but the loss is unchanged, so the step ends there (a second
    # iteration would find H_diag = 1/8, the exact inverse curvature, and land on 0)
    x = Parameter(ember.tensor([0.5], dtype=ember.float64))
    calls = []
    opt = optim.LBFGS([x], tolerance_change=1e-3)
    opt.step(make_closure(opt, lambda: (4 * x**2).sum(), calls))
    assert x.tolist() == [-0.5]
    assert len(calls) == 2 and opt.state[x]["n_iter"] == 1


def test_history_is_limited_to_history_size():
    x = Parameter(ember.tensor([-1.2, 1.0, 0.5], dtype=ember.float64))

    def loss_fn():
        return rosenbrock(x[:2]) + ((x[2] - x[0]) ** 2) * 3

    opt = optim.LBFGS([x], history_size=2, max_iter=10)
    opt.step(make_closure(opt, loss_fn))
    state = opt.state[x]
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 2
    assert len(state["al"]) == 2


def test_a_parameter_without_gradient_stays_put():
    x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    unused = Parameter(ember.tensor([5.0, 6.0, 7.0], dtype=ember.float64))
    opt = optim.LBFGS([x, unused], line_search_fn="strong_wolfe")
    closure = make_closure(opt, lambda: rosenbrock(x))
    for _ in range(3):
        opt.step(closure)
    assert unused.tolist() == [5.0, 6.0, 7.0]
    assert opt.state[x]["d"].shape == (5,)  # the flat vector covers both parameters
    assert unused not in opt.state


def test_step_runs_the_closure_with_grad_enabled():
    x = Parameter(ember.tensor([2.0, 0.5], dtype=ember.float64))
    seen = []
    opt = optim.LBFGS([x], max_iter=3)

    def closure():
        seen.append(ember.is_grad_enabled())
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        return loss

    with ember.no_grad():
        opt.step(closure)
    assert seen and all(seen)


def test_step_hooks_run_once_per_step():
    x = Parameter(ember.tensor([2.0, 0.5], dtype=ember.float64))
    opt = optim.LBFGS([x], max_iter=3)
    events = []
    opt.register_step_pre_hook(lambda o, args, kwargs: events.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: events.append("post"))
    opt.step(closure=make_closure(opt, lambda: rosenbrock(x)))
    assert events == ["pre", "post"]


# --------------------------------------------------------------------------- state
def test_state_lives_under_the_first_parameter_in_torch_order():
    a = Parameter(ember.tensor([-1.2], dtype=ember.float64))
    b = Parameter(ember.tensor([1.0], dtype=ember.float64))
    opt = optim.LBFGS([a, b], max_iter=4)
    opt.step(make_closure(opt, lambda: rosenbrock(ember.cat([a, b]))))
    assert list(opt.state) == [a]
    assert list(opt.state[a]) == ["func_evals", "n_iter", "al", "d", "t", "old_dirs",
                                  "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss"]
    sd = opt.state_dict()
    assert list(sd["state"]) == [0]
    assert sd["param_groups"] == [{
        "lr": 1, "max_iter": 4, "max_eval": 5, "tolerance_grad": 1e-7,
        "tolerance_change": 1e-9, "history_size": 100, "line_search_fn": None,
        "params": [0, 1],
    }]


def test_the_first_step_length_is_a_tensor_of_the_gradient_dtype():
    x = Parameter(ember.tensor([4.0], dtype=ember.float64))
    opt = optim.LBFGS([x], max_iter=1)
    opt.step(make_closure(opt, lambda: ((x - 1) ** 2).sum()))
    t = opt.state[x]["t"]
    assert isinstance(t, ember.Tensor) and t.ndim == 0 and t.dtype == ember.float64
    assert float(t) == pytest.approx(1 / 6)
    assert "al" not in opt.state[x]  # only made by an iteration that uses the memory


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_continues_the_same_trajectory(line_search_fn):
    def build(start_a, start_b):
        a = Parameter(ember.tensor(start_a))
        b = Parameter(ember.tensor(start_b))
        opt = optim.LBFGS([a, b], max_iter=4, history_size=3, line_search_fn=line_search_fn)

        def loss_fn():
            return rosenbrock(ember.cat([a.reshape(-1), b])[:2]) + (a * a).sum() * 0.1

        return a, b, opt, make_closure(opt, loss_fn)

    start_a = np.array([[-1.2, 0.3], [0.2, 0.4]])
    start_b = np.array([1.0, -0.5, 0.7])
    a, b, opt, closure = build(start_a, start_b)
    opt.step(closure)
    saved = copy.deepcopy(opt.state_dict())
    a2, b2, opt2, closure2 = build(a.detach().numpy(), b.detach().numpy())
    opt2.load_state_dict(saved)
    for _ in range(2):
        la, lb = opt.step(closure), opt2.step(closure2)
        assert float(la) == float(lb)
    np.testing.assert_array_equal(a2.detach().numpy(), a.detach().numpy())
    np.testing.assert_array_equal(b2.detach().numpy(), b.detach().numpy())
    assert opt2.state[a2]["func_evals"] == opt.state[a]["func_evals"]


def test_loading_copies_and_casts_the_flat_state():
    a = Parameter(ember.zeros(2, 3))
    b = Parameter(ember.zeros(4))
    opt = optim.LBFGS([a, b])
    flat = np.arange(10.0)  # float64 vectors over both float32 parameters
    opt.load_state_dict({
        "state": {0: {"func_evals": 3, "n_iter": 2, "d": flat, "t": 1,
                      "old_dirs": [flat], "old_stps": [flat * 2],
                      "ro": [np.array(0.5)], "H_diag": np.array(2.0),
                      "prev_flat_grad": flat, "prev_loss": 1.5}},
        "param_groups": [dict(opt.state_dict()["param_groups"][0])],
    })
    state = opt.state[a]
    assert state["d"].dtype == ember.float32 and state["d"].shape == (10,)
    assert state["old_stps"][0].tolist() == list(flat * 2)
    assert state["ro"][0].dtype == ember.float32 and state["ro"][0].ndim == 0
    flat[0] = 99.0
    assert state["d"].tolist()[0] == 0.0  # a copy, not the caller's array


def test_deepcopy_keeps_state_and_parameters_working():
    x = Parameter(ember.tensor([-1.2, 1.0], dtype=ember.float64))
    opt = optim.LBFGS([x], max_iter=3, max_eval=10)
    closure = make_closure(opt, lambda: rosenbrock(x))
    opt.step(closure)
    clone = copy.deepcopy(opt)
    y = clone.param_groups[0]["params"][0]
    assert y is not x and clone.state[y]["n_iter"] == 3
    opt.step(closure)
    clone.step(make_closure(clone, lambda: rosenbrock(y)))
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy())


# --------------------------------------------------------------------------- errors
def test_invalid_learning_rate_raises():
    x = Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        optim.LBFGS([x], lr=-1)
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        optim.LBFGS([x], lr=ember.tensor([0.1, 0.2]))


def test_parameter_groups_are_refused():
    a, b = Parameter(ember.zeros(2)), Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options "
                                         r"\(parameter groups\)$"):
        optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    opt = optim.LBFGS([a])
    opt.add_param_group({"params": [b]})
    with pytest.raises(AssertionError, match="Expected exactly one param_group, but got 2"):
        opt.step(make_closure(opt, lambda: (a * b).sum()))


def test_unknown_line_search_raises_at_the_step():
    x = Parameter(ember.tensor([2.0, 0.5]))
    opt = optim.LBFGS([x], line_search_fn="backtracking")  # accepted here, as in torch
    with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
        opt.step(make_closure(opt, lambda: rosenbrock(x)))


def test_step_requires_a_closure():
    opt = optim.LBFGS([Parameter(ember.zeros(2))])
    with pytest.raises(TypeError):
        opt.step()


def test_empty_parameter_list_is_refused():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.LBFGS([])


def test_tensor_lr_is_used_as_its_value():
    def run(lr):
        x = Parameter(ember.tensor([-1.2, 1.0]))
        opt = optim.LBFGS([x], lr=lr, max_iter=5)
        opt.step(make_closure(opt, lambda: rosenbrock(x)))
        return x.detach().numpy()

    np.testing.assert_array_equal(run(ember.tensor(0.25)), run(0.25))
    assert not np.array_equal(run(0.25), run(0.5))
