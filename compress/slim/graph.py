"""The channel-space graph of a functional Keras model (union-find over tied spaces)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from compress.slim.channels import Layout, SlimError, Space
from compress.slim.handlers import handler_for
from plates.keras import keras
from plates.modelio import inbound_names

layers = keras.layers


class Graph:
    """Channel spaces of a functional model (union-find over tied spaces)."""

    def __init__(self, model: keras.Model, protect: Sequence[str] = ()):
        if not isinstance(model, keras.Model) or not hasattr(model, "_nested_inputs"):
            raise SlimError("slimming needs a functional Keras model")
        names = {layer.name for layer in model.layers}
        for p in protect:
            if not any(p in n for n in names):
                raise SlimError(f"--protect {p!r} matches no layer; layers are e.g. {sorted(names)[:8]} ...")
        self.model, self.protect = model, tuple(protect)
        self.spaces: list[Space] = []
        self.parent: list[int] = []
        self.layouts: dict[str, Layout] = {}  # output tensor layout per layer name
        self.inputs: dict[str, list[str]] = {}  # layer -> inbound layer names
        for layer in model.layers:
            inbound = inbound_names(layer)
            self.inputs[layer.name] = inbound
            if isinstance(layer, layers.InputLayer):
                sid = self.new_space(int(layer.output_shape[0][-1]), layer.name, "model input")
                self.layouts[layer.name] = Layout([(sid, self.spaces[sid].size)])
                continue
            ins = [self.layouts[n] for n in inbound]
            handler = handler_for(layer)
            self.layouts[layer.name] = handler.propagate(self, layer, ins)

    def new_space(self, size: int, member: str, protected: str = "") -> int:
        self.spaces.append(Space(size, members=[member], protected=protected))
        self.parent.append(len(self.parent))
        return len(self.spaces) - 1

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.spaces[ra].size != self.spaces[rb].size:
            raise SlimError(
                f"tied channel groups of different sizes ({self.spaces[ra].size} vs {self.spaces[rb].size})"
            )
        self.parent[rb] = ra
        s, t = self.spaces[ra], self.spaces[rb]
        s.bns += t.bns
        s.members += t.members
        s.protected = s.protected or t.protected

    def protect_layout(self, layout: Layout, reason: str) -> None:
        for sid, _ in layout.segments:
            root = self.spaces[self.find(sid)]
            root.protected = root.protected or reason

    def roots(self) -> list[int]:
        return sorted({self.find(i) for i in range(len(self.spaces))})

    def gammas(self, root: int, reduce: str = "sum") -> np.ndarray:
        space = self.spaces[root]
        vals = [np.abs(self.model.get_layer(name).gamma.numpy()[off : off + space.size]) for name, off in space.bns]
        return np.sum(vals, 0) if reduce == "sum" else np.max(vals, 0)

    def prunable(self) -> list[int]:
        return [r for r in self.roots() if not self.spaces[r].protected and self.spaces[r].bns]
