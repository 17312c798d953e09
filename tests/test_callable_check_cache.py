"""check_callable_args remembers its answers for functions and methods; a remembered
answer must always be the one a fresh check would give."""

import inspect

import pytest

from apscheduler import util
from apscheduler.util import check_callable_args


def outcome(func, args, kwargs):
    try:
        check_callable_args(func, args, kwargs)
    except ValueError as exc:
        return str(exc)
    return None


def fresh_outcome(func, args, kwargs):
    try:
        util._check_callable_args(func, args, kwargs)
    except ValueError as exc:
        return str(exc)
    return None


def target(a, b=2, *, c, d=4):
    pass


class Holder:
    def method(self, x, y=1):
        pass


CALLS = [
    ((1,), {"c": 3}),
    ((1, 2), {"c": 3, "d": 5}),
    ((), {"c": 3}),
    ((1,), {}),
    ((1, 2, 3), {"c": 3}),
    ((1,), {"c": 3, "e": 5, "f": 6}),
    ((1,), {"f": 6, "c": 3, "e": 5}),
    ((1,), {"a": 1, "c": 3}),
]


@pytest.mark.parametrize("args, kwargs", CALLS)
def test_repeated_checks_give_the_fresh_answer(args, kwargs):
    for _ in range(3):
        assert outcome(target, args, kwargs) == fresh_outcome(target, args, kwargs)
        assert outcome(target, list(args), kwargs) == fresh_outcome(target, args, kwargs)


def test_bound_and_unbound_methods_are_told_apart():
    holder = Holder()
    assert outcome(holder.method, (1,), {}) is None
    assert outcome(Holder.method, (1,), {}) == "The following arguments have not been supplied: x"
    assert outcome(holder.method, (1,), {}) is None


def test_replaced_defaults_are_noticed():
    def func(a, b=1):
        pass

    assert outcome(func, (1,), {}) is None
    func.__defaults__ = None
    assert outcome(func, (1,), {}) == "The following arguments have not been supplied: b"
    func.__defaults__ = (5,)
    assert outcome(func, (1,), {}) is None


def test_a_signature_set_later_is_noticed():
    def func(*args, **kwargs):
        pass

    assert outcome(func, (1, 2), {}) is None
    func.__signature__ = inspect.Signature(
        [inspect.Parameter("a", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    )
    assert outcome(func, (1, 2), {}).startswith("The list of positional arguments is longer")


def test_other_callables_are_checked_every_time():
    class Callable:
        def __call__(self, a):
            pass

    instance = Callable()
    assert outcome(instance, (1,), {}) is None
    Callable.__call__ = lambda self: None
    assert outcome(instance, (1,), {}).startswith("The list of positional arguments is longer")


def test_the_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(util, "_CALLABLE_CHECKS_LIMIT", 3)
    monkeypatch.setattr(util, "_callable_checks", {})
    for n in range(10):
        outcome(target, tuple(range(n)), {"c": 1})
        assert len(util._callable_checks) <= 3
