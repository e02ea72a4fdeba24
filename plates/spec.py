"""The plate spec: which heads a recogniser has and the classes of each, in plate order.

A Chinese plate is read position by position: one softmax head per character position,
each with its own class set (the province head only knows Hanzi, the letter head only
letters), plus optional attribute heads. The 8th position has a "no character" class
``""`` so 7-character plates and 8-character green new-energy plates share one model.

The spec is plain data; ``PlateSpec.to_dict``/``from_dict`` round-trip it through the
``heads`` section of every exported ``labels.json``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from plates.errors import SpecError

#: The 31 provincial-level prefixes, in the order CCPD uses (so CCPD indices map 1:1).
PROVINCES: tuple[str, ...] = tuple("皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新")
#: Plate letters: I and O are never used (they look like 1 and 0).
LETTERS: tuple[str, ...] = tuple("ABCDEFGHJKLMNPQRSTUVWXYZ")
DIGITS: tuple[str, ...] = tuple("0123456789")
ALNUM: tuple[str, ...] = DIGITS + LETTERS
#: Special last characters: learner, police, trailer, Hong Kong, Macau, consulate, embassy.
SPECIALS: tuple[str, ...] = tuple("学警挂港澳领使")
NO_CHAR = ""

COLOURS: tuple[str, ...] = ("blue", "yellow", "green", "white", "black")
LAYOUTS: tuple[str, ...] = ("single", "double")

CHAR = "char"
ATTRIBUTE = "attribute"


@dataclasses.dataclass(frozen=True)
class Head:
    """One softmax head: its output name, its classes (index = class id) and its role."""

    name: str
    classes: tuple[str, ...]
    kind: str = CHAR

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise SpecError(f"head name {self.name!r} must be an identifier (it names a model output)")
        if self.kind not in (CHAR, ATTRIBUTE):
            raise SpecError(f"head {self.name!r}: kind must be {CHAR!r} or {ATTRIBUTE!r}, not {self.kind!r}")
        if len(self.classes) < 2:
            raise SpecError(f"head {self.name!r} needs at least 2 classes, has {len(self.classes)}")
        if len(set(self.classes)) != len(self.classes):
            raise SpecError(f"head {self.name!r} lists a class twice")

    @property
    def optional(self) -> bool:
        """A character head that may be empty (the 8th position)."""
        return self.kind == CHAR and NO_CHAR in self.classes

    def index(self, value: str) -> int:
        try:
            return self.classes.index(value)
        except ValueError:
            raise KeyError(value) from None


@dataclasses.dataclass(frozen=True)
class PlateSpec:
    """The ordered heads of a multi-head plate recogniser."""

    heads: tuple[Head, ...]

    def __post_init__(self) -> None:
        names = [h.name for h in self.heads]
        if len(set(names)) != len(names):
            raise SpecError(f"duplicate head names in {names}")
        chars = self.char_heads
        if not chars:
            raise SpecError("a plate spec needs at least one character head")
        seen_optional = False
        for head in chars:
            if head.optional:
                seen_optional = True
            elif seen_optional:
                raise SpecError(f"character head {head.name!r} is mandatory but follows an optional one")

    @property
    def char_heads(self) -> tuple[Head, ...]:
        return tuple(h for h in self.heads if h.kind == CHAR)

    @property
    def attribute_heads(self) -> tuple[Head, ...]:
        return tuple(h for h in self.heads if h.kind == ATTRIBUTE)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.heads)

    @property
    def min_length(self) -> int:
        return sum(not h.optional for h in self.char_heads)

    @property
    def max_length(self) -> int:
        return len(self.char_heads)

    def head(self, name: str) -> Head:
        for h in self.heads:
            if h.name == name:
                return h
        raise SpecError(f"no head named {name!r}; heads are {list(self.names)}")

    @property
    def charset(self) -> frozenset[str]:
        return frozenset(c for h in self.char_heads for c in h.classes if c)

    def to_dict(self) -> list[dict[str, Any]]:
        return [{"name": h.name, "kind": h.kind, "classes": list(h.classes)} for h in self.heads]

    @classmethod
    def from_dict(cls, heads: Sequence[Mapping[str, Any]]) -> PlateSpec:
        try:
            return cls(
                tuple(
                    Head(str(h["name"]), tuple(str(c) for c in h["classes"]), str(h.get("kind", CHAR))) for h in heads
                )
            )
        except (KeyError, TypeError) as exc:
            raise SpecError(f"malformed heads list: {exc!r}") from None


def default_spec(attributes: bool = True) -> PlateSpec:
    """Chinese plates: province, letter, 4 alphanumerics, a 7th position that may hold a
    special character, an optional 8th (green new-energy); plus colour and layout heads."""
    heads = [
        Head("char1", PROVINCES),
        Head("char2", LETTERS),
        *(Head(f"char{i}", ALNUM) for i in range(3, 7)),
        Head("char7", ALNUM + SPECIALS),
        Head("char8", (NO_CHAR,) + ALNUM),
    ]
    if attributes:
        heads += [Head("colour", COLOURS, ATTRIBUTE), Head("layout", LAYOUTS, ATTRIBUTE)]
    return PlateSpec(tuple(heads))
