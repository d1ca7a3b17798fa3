"""Every class declared with imds_lint.records behaves as the standard library's dataclass would.

Each record class of the package is rebuilt with ``dataclasses.dataclass`` from
the same fields and options (and the same methods the class writes itself), and
the two are compared: ``__init__``'s parameters and defaults, the values it
sets, ``repr``, equality, hashing, ordering, immutability, ``__slots__``,
``__match_args__``, ``replace`` and a pickle round trip.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil

import pytest

import imds_lint
from imds_lint import records

GENERATED = {"__init__", "__repr__", "__eq__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__setattr__",
             "__delattr__", "__getstate__", "__setstate__"}


def _record_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(imds_lint.__path__, "imds_lint."):
        if info.name.startswith("imds_lint.rules") or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and "__record_fields__" in vars(value) and value.__module__ == module.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


CLASSES = _record_classes()


def _twin(cls: type) -> type:
    """The same declaration through dataclasses.dataclass."""
    namespace: dict = {"__annotations__": {}, "__module__": cls.__module__, "__qualname__": cls.__qualname__}
    for name, f in vars(cls)["__record_fields__"].items():
        namespace["__annotations__"][name] = "object"
        namespace[name] = dataclasses.field(default=f.default if f.default is not records.MISSING else dataclasses.MISSING,
                                            default_factory=f.default_factory if f.default_factory is not records.MISSING
                                            else dataclasses.MISSING, init=f.init, repr=f.repr, compare=f.compare)
    for name, value in vars(cls).items():
        code = getattr(value, "__code__", None)
        written_by_records = code is not None and code.co_filename in ("<string>", records.__file__) and name in GENERATED
        if callable(value) and not written_by_records and not name.startswith("__record"):
            namespace[name] = value
    base = cls.__bases__
    return dataclasses.dataclass(type(cls.__name__, base, namespace), **vars(cls)["__record_params__"])


def _arguments(cls: type) -> dict:
    # Distinct increasing integers for the fields __init__ requires (Span checks start <= end).
    params = [p for p in inspect.signature(records.init_of(cls)).parameters.values() if p.name != "self"]
    return {p.name: 10 + i for i, p in enumerate(params) if p.default is inspect.Parameter.empty}


def _state(obj) -> dict:
    return {name: getattr(obj, name, "<unset>") for name in type(obj).__record_fields__}


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as exc:  # the kind of failure is what must match
        return ("raises", AttributeError if isinstance(exc, AttributeError) else type(exc))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__.removeprefix('imds_lint.')}.{c.__qualname__}")
def test_record_class_behaves_as_the_standard_dataclass(cls):
    twin = _twin(cls)
    ours_params = [(p.name, p.default is inspect.Parameter.empty)
                   for p in inspect.signature(records.init_of(cls)).parameters.values()]
    twin_params = [(p.name, p.default is inspect.Parameter.empty) for p in inspect.signature(twin.__init__).parameters.values()]
    assert ours_params == twin_params
    args = _arguments(cls)
    a, b, same = cls(**args), twin(**args), cls(**args)
    assert _state(a) == {name: getattr(b, name, "<unset>") for name in _state(a)}
    assert repr(a) == repr(b)
    assert (a == same) == (b == twin(**args))
    assert _outcome(lambda: hash(a) == hash(same))[0] == _outcome(lambda: hash(b) == hash(twin(**args)))[0]
    assert hasattr(a, "__dict__") == hasattr(b, "__dict__")
    assert cls.__match_args__ == twin.__match_args__
    if args:
        first = next(iter(args))
        bigger = {**args, first: args[first] - 5} if cls.__qualname__ == "Span" else {**args, first: args[first] + 100}
        assert (a == cls(**bigger)) == (b == twin(**bigger))
        if vars(cls)["__record_params__"]["order"]:
            assert (a < cls(**bigger)) == (b < twin(**bigger))
            assert (a >= cls(**bigger)) == (b >= twin(**bigger))
        changed = records.replace(a, **{first: bigger[first]})
        assert repr(changed) == repr(dataclasses.replace(b, **{first: bigger[first]}))
        assert _outcome(lambda: setattr(a, first, 0)) == _outcome(lambda: setattr(b, first, 0))
        assert _outcome(lambda: delattr(same, first)) == _outcome(lambda: delattr(twin(**args), first))
    try:
        copy = pickle.loads(pickle.dumps(cls(**args)))
    except (pickle.PicklingError, TypeError, AttributeError):
        pytest.skip("instances with these placeholder values do not pickle")  # e.g. a field holding a lambda default
    assert _state(copy) == _state(cls(**args))


@records.dataclass(frozen=True, slots=True, order=True)
class Point:
    x: int
    y: int = 0
    tags: list = records.field(default_factory=list, compare=False, repr=False)
    label: str | None = records.field(default=None, init=False)


def test_record_options_and_errors_match_the_standard_library():
    p = Point(1)
    assert repr(p) == "Point(x=1, y=0, label=None)" and p.tags == [] and p.tags is not Point(1).tags
    assert Point(1, 2) < Point(2, 0) and Point(1, 2, ["a"]) == Point(1, 2, ["b"])
    assert hash(Point(1, 2, ["a"])) == hash(Point(1, 2))
    with pytest.raises(AttributeError):
        p.x = 3
    assert pickle.loads(pickle.dumps(p, protocol=2)) == p
    with pytest.raises(ValueError):
        records.replace(p, label="x")  # init=False, as dataclasses.replace
    with pytest.raises(TypeError):
        records.dataclass(type("Bad", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
    with pytest.raises(ValueError):
        records.dataclass(type("Shared", (), {"__annotations__": {"items": "list"}, "items": []}))

    @records.dataclass
    class Mutable:
        n: int

    assert Mutable.__hash__ is None and Mutable(1) == Mutable(1)


def test_only_identifiers_reach_the_generated_init():
    # The one exec in the package (tests/test_safety.py) compiles field names: anything else is refused.
    for name in ("a=print('x')", "x y", "class"):
        with pytest.raises(TypeError):
            records.dataclass(type("Bad", (), {"__annotations__": {name: "int"}}))


def test_the_package_no_longer_pays_for_dataclasses():
    import subprocess
    import sys

    # What a run with findings imports: the engine, the shell front-end and the rule catalog.
    probe = ("import sys; import imds_lint.engine, imds_lint.frontends.shell, imds_lint.registry as r; r.all_rules(); "
             "print('dataclasses' in sys.modules, 'inspect' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout
    assert out.split() == ["False", "False"]


def test_init_is_interpreted_for_the_first_instances_then_compiled():
    @records.dataclass(frozen=True, slots=True)
    class Lazy:
        a: int
        b: str = "x"
        c: list = records.field(default_factory=list)

    assert getattr(Lazy.__dict__["__init__"], "__record_pending__", None) is not None
    made = [Lazy(1), Lazy(a=1, b="x"), Lazy(2, c=[3]), Lazy(2, "y", [3])]
    assert made[0] == made[1] and repr(made[3]) == "Lazy(a=2, b='y', c=[3])" and made[2] == Lazy(2, "x", [3])
    assert made[0].c is not made[1].c
    assert "__record_pending__" in vars(Lazy.__dict__["__init__"])  # still interpreted
    for i in range(records.INTERPRETED_INSTANCES):
        Lazy(i)
    compiled = Lazy.__dict__["__init__"]
    assert not hasattr(compiled, "__record_pending__") and records.init_of(Lazy) is compiled
    assert compiled.__qualname__.endswith("Lazy.__init__")
    assert Lazy(1) == made[0]

    @records.dataclass
    class Other:
        n: int

    class Sub(Other):
        pass

    # A plain subclass made first uses its record base's __init__.
    assert Sub(3).n == 3 and Other(4).n == 4 and type(Sub(5)) is Sub


def test_calls_the_interpreter_cannot_bind_raise_pythons_own_errors():
    def fresh():
        @records.dataclass(frozen=True)
        class Pair:
            a: int
            b: int = 2

        return Pair

    for call in (lambda P: P(), lambda P: P(1, 2, 3), lambda P: P(1, a=1), lambda P: P(1, c=3)):
        with pytest.raises(TypeError) as interpreted:
            call(fresh())
        compiled = fresh()
        records.init_of(compiled)
        with pytest.raises(TypeError) as expected:
            call(compiled)
        assert str(interpreted.value) == str(expected.value)


def _redeclared(cls: type) -> type:
    """The same declaration through records.dataclass again: a class whose __init__ is still interpreted."""
    namespace: dict = {"__annotations__": {}, "__module__": cls.__module__, "__qualname__": cls.__qualname__}
    for name, f in vars(cls)["__record_fields__"].items():
        namespace["__annotations__"][name] = "object"
        namespace[name] = records.field(default=f.default, default_factory=f.default_factory, init=f.init,
                                        repr=f.repr, compare=f.compare)
    for name, value in vars(cls).items():
        code = getattr(value, "__code__", None)
        written_by_records = code is not None and code.co_filename in ("<string>", records.__file__) and name in GENERATED
        if callable(value) and not written_by_records and not name.startswith("__record"):
            namespace[name] = value
    return records.dataclass(type(cls.__name__, cls.__bases__, namespace), **vars(cls)["__record_params__"])


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__.removeprefix('imds_lint.')}.{c.__qualname__}")
def test_the_interpreted_init_sets_what_the_compiled_one_does(cls):
    interpreted, compiled = _redeclared(cls), _redeclared(cls)
    records.init_of(compiled)
    args = _arguments(cls)
    positional = list(args.values())
    for make in (lambda c: c(**args), lambda c: c(*positional)):
        a = _outcome(lambda: _state(make(interpreted)))
        b = _outcome(lambda: _state(make(compiled)))
        assert a == b
    assert "__record_pending__" in vars(vars(interpreted)["__init__"])
