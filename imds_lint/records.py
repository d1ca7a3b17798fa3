"""``dataclass``, ``field`` and ``replace`` for the package's value types, at a tenth of the start-up cost.

The standard decorator costs ~0.4 ms a class (one ``exec`` per generated method,
a regex over every string annotation, ``inspect.signature`` for the docstring),
and importing ``dataclasses`` imports ``inspect`` (with ``dis``, ``tokenize`` and
``ast``): about 25 ms of a pre-commit run that reports four findings, five
times what the linting costs. Here only ``__init__`` is compiled (it keeps a
real signature and a plain function's speed); comparison, hashing, ``repr``
and immutability are shared functions over ``operator.attrgetter``. It covers what the package uses:
``frozen``, ``slots``, ``order``, ``eq`` and ``field(default, default_factory,
init, repr, compare)``; ``tests/test_records.py`` holds every class declared
with it equal to the standard library's on ``__init__``'s signature, ``repr``,
equality, hashing, ordering, immutability, pickling and ``replace``.
"""

from __future__ import annotations

import keyword
from operator import attrgetter

__all__ = ["FrozenInstanceError", "MISSING", "dataclass", "field", "fields", "init_of", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record (the standard library's exception has this name too)."""


class Field:
    __slots__ = ("name", "default", "default_factory", "init", "repr", "compare")

    def __init__(self, default=MISSING, default_factory=MISSING, init=True, repr=True, compare=True):
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default, self.default_factory = default, default_factory
        self.init, self.repr, self.compare = init, repr, compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default=MISSING, default_factory=MISSING, init=True, repr=True, compare=True) -> Field:
    return Field(default, default_factory, init, repr, compare)


def fields(cls_or_instance) -> tuple[Field, ...]:
    return tuple(getattr(cls_or_instance, "__record_fields__").values())


def replace(obj, **changes):
    """A copy of ``obj`` with ``changes`` (as ``dataclasses.replace``)."""
    for f in obj.__record_fields__.values():
        if f.name in changes:
            if not f.init:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
        elif f.init:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def _is_classvar(annotation) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.startswith(("ClassVar", "typing.ClassVar"))


def dataclass(cls=None, /, *, init=True, repr=True, eq=True, order=False, frozen=False, slots=False):
    def wrap(cls):
        return _process(cls, init, repr, eq, order, frozen, slots)

    return wrap if cls is None else wrap(cls)


def _process(cls, init, repr_, eq, order, frozen, slots):
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited.update(getattr(base, "__record_fields__", {}))
    own: dict[str, Field] = {}
    body = cls.__dict__
    for name, annotation in body.get("__annotations__", {}).items():
        if _is_classvar(annotation):
            continue
        value = body.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
        own[name] = f
    all_fields = {**inherited, **own}
    values = list(all_fields.values())

    owner: list[type] = []  # the final class, for the frozen methods (slots make a new one)
    methods: dict = {}
    if init:
        _check_init(values)
        methods["__init__"] = _lazy_init(owner, values, frozen)
    if repr_:
        methods["__repr__"] = _repr(tuple(f.name for f in values if f.repr))
    key = _key(tuple(f.name for f in values if f.compare))
    if eq:
        methods["__eq__"] = _compare(key, "__eq__")
    if order:
        for name in ("__lt__", "__le__", "__gt__", "__ge__"):
            methods[name] = _compare(key, name)
    if eq and frozen:
        methods["__hash__"] = lambda self: hash(key(self))

    # A class body defining __eq__ gets __hash__ = None from Python itself: not a hash it wrote.
    explicit_hash = "__hash__" in body and not (body["__hash__"] is None and "__eq__" in body)
    if frozen:
        methods.update(_frozen(owner, tuple(all_fields), slots))
    for name in list(methods):
        if name in body and (name != "__hash__" or explicit_hash):
            del methods[name]  # a method the class writes itself wins, as with dataclasses
        else:
            methods[name].__qualname__ = f"{cls.__qualname__}.{name}"
    if slots:
        # Methods go in with the rest of the namespace: each setattr on a class afterwards
        # re-derives its slot table (~10 µs a dunder).
        attrs = {k: v for k, v in body.items() if k not in all_fields and k not in ("__dict__", "__weakref__")}
        attrs.update(methods, __slots__=tuple(own))
        cls = type(cls)(cls.__name__, cls.__bases__, attrs)
    else:
        for f in own.values():
            if f.default is MISSING:
                if f.name in body:
                    delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
        for name, method in methods.items():
            setattr(cls, name, method)
    owner.append(cls)
    if eq and not frozen and not explicit_hash:
        cls.__hash__ = None
    cls.__record_fields__ = all_fields
    cls.__record_params__ = {"init": init, "repr": repr_, "eq": eq, "order": order, "frozen": frozen, "slots": slots}
    cls.__match_args__ = tuple(f.name for f in values if f.init)
    if cls.__doc__ is None:
        cls.__doc__ = f"{cls.__name__}({', '.join(all_fields)})"
    return cls


def _check_init(values: list[Field]) -> None:
    """What the generated ``__init__`` needs of the fields, checked when the class is made."""
    seen_default = False
    for f in values:
        if not f.name.isidentifier() or keyword.iskeyword(f.name):
            raise TypeError(f"field name {f.name!r} is not an identifier")
        if f.init:
            has_default = f.default is not MISSING or f.default_factory is not MISSING
            if seen_default and not has_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            seen_default = seen_default or has_default


# Instances a record class makes through the interpreted ``__init__`` before its own is compiled.
INTERPRETED_INSTANCES = 16


def _lazy_init(owner: list[type], values: list[Field], frozen: bool):
    """An ``__init__`` that binds its arguments by interpreting the fields for a class's first few
    instances, then compiles the real one and hands over to it.

    Compiling costs ~100 µs a class (more with more fields): 23 classes made 2.3 ms of a
    pre-commit run with four findings, where 16 of them make 4 to 12 instances and 13 more of
    the package's classes none. Interpreting costs a few µs an instance; a class that makes
    more than INTERPRETED_INSTANCES pays for the compiled one, which keeps a real signature
    and a plain function's speed. Any call the interpreter does not bind plainly (a missing or
    unexpected argument, a value given twice) goes to the compiled one, so errors are Python's
    own. ``init_of`` gives the real one without making an instance.
    """
    params = [f for f in values if f.init]
    by_name = {f.name: i for i, f in enumerate(params)}
    put = object.__setattr__ if frozen else setattr
    made = [0]

    def __init__(self, *args, **kwargs):
        cls = owner[0]
        made[0] += 1
        if made[0] > INTERPRETED_INSTANCES or len(args) > len(params):
            return init_of(cls)(self, *args, **kwargs)
        for name in kwargs:
            if by_name.get(name, -1) < len(args):  # unexpected, or given twice: Python's TypeError
                return init_of(cls)(self, *args, **kwargs)
        chosen = []
        for f in values:  # in field order, as the compiled one evaluates and sets them
            if f.init:
                i = by_name[f.name]
                value = args[i] if i < len(args) else kwargs.get(f.name, MISSING)
                if value is not MISSING:
                    chosen.append((f, value, False))
                    continue
            if f.default_factory is not MISSING:
                chosen.append((f, f.default_factory, True))
            elif f.default is not MISSING:
                chosen.append((f, f.default, False))
            elif f.init:
                return init_of(cls)(self, *args, **kwargs)  # a missing argument: Python's TypeError
        for f, value, make in chosen:
            put(self, f.name, value() if make else value)
        if _has_post_init(cls):
            self.__post_init__()

    __init__.__record_pending__ = (values, frozen)
    return __init__


def _has_post_init(cls: type) -> bool:
    return any("__post_init__" in vars(c) for c in cls.__mro__)


def init_of(cls: type):
    """The record class's generated ``__init__``, compiled now if no instance was made yet."""
    method = cls.__dict__["__init__"]
    pending = getattr(method, "__record_pending__", None)
    if pending is None:
        return method
    real = _init(cls, *pending)
    real.__qualname__ = method.__qualname__
    cls.__init__ = real
    return real


def _init(cls, values: list[Field], frozen: bool):
    """The one generated function: a real signature (defaults, keywords) at a plain function's speed.

    Its source is made of the class's own field names, checked to be identifiers (``_check_init``),
    and of fixed text: nothing a scan reads reaches it (tests/test_safety.py allows this one exec).
    """
    for f in values:
        if not f.name.isidentifier() or keyword.iskeyword(f.name):
            raise TypeError(f"field name {f.name!r} is not an identifier")
    namespace: dict = {"MISSING": MISSING, "__object_setattr": object.__setattr__}
    params, assign = [], []
    for f in values:
        if f.default is not MISSING:
            namespace[f"__default_{f.name}"] = f.default
        if f.default_factory is not MISSING:
            namespace[f"__factory_{f.name}"] = f.default_factory
        if f.init:
            if f.default_factory is not MISSING:
                params.append(f"{f.name}=MISSING")
                value = f"__factory_{f.name}() if {f.name} is MISSING else {f.name}"
            elif f.default is not MISSING:
                params.append(f"{f.name}=__default_{f.name}")
                value = f.name
            else:
                params.append(f.name)
                value = f.name
        elif f.default_factory is not MISSING:
            value = f"__factory_{f.name}()"
        elif f.default is not MISSING:
            value = f"__default_{f.name}"
        else:
            continue
        assign.append(f"__object_setattr(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
    if _has_post_init(cls):
        assign.append("self.__post_init__()")
    exec(f"def __init__(self, {', '.join(params)}):\n  " + ("\n  ".join(assign) or "pass"), namespace)
    return namespace["__init__"]


def _key(names: tuple[str, ...]):
    """The tuple of compared fields, as dataclasses compares and hashes them."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return lambda self: ()


def _compare(key, name: str):
    op = getattr(tuple, name)

    def compare(self, other):
        if other.__class__ is self.__class__:
            return op(key(self), key(other))
        return NotImplemented

    return compare


def _repr(names: tuple[str, ...]):
    def __repr__(self):
        return self.__class__.__qualname__ + "(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    return __repr__


def _frozen(owner: list[type], names: tuple[str, ...], slots: bool) -> dict:
    def __setattr__(self, name, value):
        if type(self) is owner[0] or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(owner[0], self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is owner[0] or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(owner[0], self).__delattr__(name)

    methods = {"__setattr__": __setattr__, "__delattr__": __delattr__}
    if slots:
        # Pickle's default for slots sets each one with setattr, which a frozen class refuses.
        def __getstate__(self):
            return [getattr(self, n) for n in names]

        def __setstate__(self, state):
            for n, v in zip(names, state):
                object.__setattr__(self, n, v)

        methods.update(__getstate__=__getstate__, __setstate__=__setstate__)
    return methods
