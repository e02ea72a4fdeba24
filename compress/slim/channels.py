"""Channel spaces and tensor layouts: what slimming tracks for every tensor of the graph."""

from __future__ import annotations

import dataclasses

from plates.errors import PlateError


class SlimError(PlateError):
    """A slimming target or option that cannot be met."""


@dataclasses.dataclass
class Space:
    """A set of channels that must be kept or removed together."""

    size: int
    bns: list[tuple[str, int]] = dataclasses.field(default_factory=list)  # (BN layer, offset in its input)
    members: list[str] = dataclasses.field(default_factory=list)
    protected: str = ""  # reason, if it may not be pruned


@dataclasses.dataclass
class Layout:
    """Channel layout of a tensor: segments (space id, size); ``spatial`` > 0 once flattened."""

    segments: list[tuple[int, int]]
    spatial: int = 0

    @property
    def channels(self) -> int:
        return sum(n for _, n in self.segments)
