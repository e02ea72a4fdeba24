"""Network slimming (Liu et al. 2017) with real channel removal on a functional Keras graph.

1. *Sparsity*: train with L1 on BatchNorm gamma (``TrainConfig.gamma_l1``).
2. *Plan*: walk the graph once, tracking for every tensor which **channel spaces** its
   channels belong to. Layers that tie channels together merge spaces: residual ``Add``,
   squeeze-excite ``Multiply``, depthwise convs (output channel = input channel),
   ``Concatenate`` (output = segments of its inputs), ``Flatten`` -> ``Dense`` (channel c at
   every position). A space's importance is the sum (or max) of |gamma| over the BN layers in
   it; a global threshold over all prunable spaces meets the target (channel ratio, or a FLOPs
   / parameter budget by bisection), with per-space floors and counts rounded to a multiple.
3. *Surgery*: rebuild the model layer by layer with fewer filters/units, slicing weights.
   A removed channel is a constant (BN beta through the activation) for its consumers; that
   constant is folded into the consumer's bias so the slimmed model computes the same
   function (exact away from zero-padded borders).

Per-layer behaviour is the ``HANDLERS`` table; a new layer type plugs in with one entry.
Unknown layers are safe: the channels they touch are protected, never removed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from plates import logger
from plates.errors import PlateError
from plates.keras import keras, tf
from plates.layers import HardSigmoid, HardSwish

layers = keras.layers
PASSTHROUGH = (
    layers.BatchNormalization,
    layers.ReLU,
    layers.Activation,
    HardSwish,
    HardSigmoid,
    layers.Dropout,
    layers.MaxPooling2D,
    layers.AveragePooling2D,
    layers.GlobalAveragePooling2D,
    layers.Softmax,
    layers.DepthwiseConv2D,
    layers.ZeroPadding2D,
)


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
            inbound = _inbound(layer)
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


def _inbound(layer) -> list[str]:
    if not layer._inbound_nodes:  # noqa: SLF001 - Keras exposes the graph only here
        return []
    node = layer._inbound_nodes[0]  # noqa: SLF001
    return [t._keras_history.layer.name for t in tf.nest.flatten(node.input_tensors)]  # noqa: SLF001


# -- handlers: how each layer type moves channels, and how it is rebuilt -----------------


class Handler:
    """Default: unknown layer. Its input channels are protected and its output is new and
    protected, so the planner never touches what it does not understand."""

    def propagate(self, g: Graph, layer, ins: list[Layout]) -> Layout:
        for lay in ins:
            g.protect_layout(lay, f"consumed by unsupported layer {layer.name} ({type(layer).__name__})")
        shape = layer.output_shape
        channels = int(shape[-1]) if isinstance(shape, tuple) and shape[-1] else 1
        return Layout([(g.new_space(channels, layer.name, f"output of unsupported {type(layer).__name__}"), channels)])

    def config(self, layer, keep_in: np.ndarray | None, keep_out: np.ndarray | None) -> dict[str, Any]:
        return layer.get_config()

    def weights(self, layer, keep_in, keep_out) -> list[np.ndarray]:
        return layer.get_weights()


class Producer(Handler):
    """Conv2D / Dense: a new channel space; the input dimension is sliced."""

    size_key = "filters"

    def propagate(self, g, layer, ins):
        if isinstance(layer, layers.Conv2D) and layer.groups != 1:
            return super().propagate(g, layer, ins)
        n = int(layer.get_config()[self.size_key])
        reason = "protected by name" if any(p in layer.name for p in g.protect) else ""
        return Layout([(g.new_space(n, layer.name, reason), n)])

    def config(self, layer, keep_in, keep_out):
        cfg = layer.get_config()
        cfg[self.size_key] = len(keep_out)
        return cfg

    def weights(self, layer, keep_in, keep_out):
        w = layer.get_weights()
        kernel = w[0][..., keep_in, :][..., keep_out] if keep_in is not None else w[0][..., keep_out]
        return [kernel] + ([w[1][keep_out]] if len(w) > 1 else [])


class DenseHandler(Producer):
    size_key = "units"


class Passthrough(Handler):
    """Same channels out as in (BN, activations, pooling, depthwise conv with multiplier 1)."""

    def propagate(self, g, layer, ins):
        lay = ins[0]
        if isinstance(layer, layers.DepthwiseConv2D) and layer.depth_multiplier != 1:
            return super().propagate(g, layer, ins)
        if lay.spatial:
            g.protect_layout(lay, f"{layer.name} after Flatten")
        if isinstance(layer, layers.BatchNormalization):
            off = 0
            for sid, n in lay.segments:
                g.spaces[sid].bns.append((layer.name, off))
                off += n
        for sid, _ in lay.segments:
            g.spaces[sid].members.append(layer.name)
        return Layout(list(lay.segments), lay.spatial)

    def weights(self, layer, keep_in, keep_out):
        w = layer.get_weights()
        if not w or keep_in is None:
            return w
        if isinstance(layer, layers.DepthwiseConv2D):
            return [w[0][:, :, keep_in, :]] + ([w[1][keep_in]] if len(w) > 1 else [])
        return [x[keep_in] for x in w]  # BatchNormalization: gamma, beta, mean, variance


class Merge(Handler):
    """Add / Multiply: every input carries the same channels, so their spaces are tied."""

    def propagate(self, g, layer, ins):
        first = ins[0]
        for other in ins[1:]:
            if [n for _, n in other.segments] != [n for _, n in first.segments] or other.spatial != first.spatial:
                return super().propagate(g, layer, ins)
            for (a, _), (b, _) in zip(first.segments, other.segments, strict=True):
                g.union(a, b)
        return Layout(list(first.segments), first.spatial)


class ConcatHandler(Handler):
    def propagate(self, g, layer, ins):
        if layer.axis not in (-1, 3) or any(lay.spatial for lay in ins):
            return super().propagate(g, layer, ins)
        return Layout([seg for lay in ins for seg in lay.segments])


class FlattenHandler(Handler):
    def propagate(self, g, layer, ins):
        shape = layer.input_shape
        return Layout(list(ins[0].segments), int(np.prod(shape[1:-1])))


HANDLERS: dict[type, Handler] = {
    layers.Dense: DenseHandler(),
    layers.DepthwiseConv2D: Passthrough(),  # before Conv2D: it subclasses Conv2D
    layers.Conv2D: Producer(),
    layers.Add: Merge(),
    layers.Multiply: Merge(),
    layers.Concatenate: ConcatHandler(),
    layers.Flatten: FlattenHandler(),
    **{cls: Passthrough() for cls in PASSTHROUGH if cls is not layers.DepthwiseConv2D},
}


def handler_for(layer) -> Handler:
    from plates.layers import NORMALISERS

    if isinstance(layer, tuple(NORMALISERS.values())):
        return Passthrough()
    for cls, h in HANDLERS.items():
        if type(layer) is cls:
            return h
    for cls, h in HANDLERS.items():
        if isinstance(layer, cls):
            return h
    return Handler()


# -- planning -----------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    ratio: float | None = None  # fraction of prunable channels to remove
    flops: float | None = None  # keep at most this fraction of MACs
    params: float | None = None  # keep at most this fraction of parameters
    latency: float | None = None  # keep at most this fraction of the measured latency
    round_to: int = 8
    min_fraction: float = 0.1  # per-space floor
    reduce: str = "sum"

    def validate(self) -> None:
        given = [v for v in (self.ratio, self.flops, self.params, self.latency) if v is not None]
        if len(given) != 1:
            raise SlimError("give exactly one target: --ratio, --flops, --params or --latency")
        if self.ratio is not None and not 0 <= self.ratio < 1:
            raise SlimError(f"--ratio must be in [0, 1) (1.0 would remove every channel), got {self.ratio}")
        for name in ("flops", "params", "latency"):
            v = getattr(self, name)
            if v is not None and not 0 < v <= 1:
                raise SlimError(f"--{name} is the fraction to keep, in (0, 1], got {v}")
        if self.reduce not in ("sum", "max"):
            raise SlimError("--importance must be sum or max")


def plan(g: Graph, target: Target, latency_fn: Callable[[keras.Model], float] | None = None) -> dict[int, np.ndarray]:
    """Kept channel indices per prunable root space.

    Budgets are met by bisection over the global gamma threshold, building each candidate
    without weights; a ``--latency`` budget times each candidate with ``latency_fn`` (weights
    do not change fp32 latency), so it is noisy but measures what the device will run."""
    target.validate()
    prunable = g.prunable()
    if not prunable:
        raise SlimError("no prunable channels (no BatchNormalization in unprotected groups)")
    scores = {r: g.gammas(r, target.reduce) for r in prunable}

    def keep_at(threshold: float) -> dict[int, np.ndarray]:
        out = {}
        for r, s in scores.items():
            n = len(s)
            k = int((s > threshold).sum())
            floor = max(int(np.ceil(target.min_fraction * n)), min(target.round_to, n), 1)
            k = max(k, floor)
            if target.round_to > 1:
                k = min(n, int(np.ceil(k / target.round_to)) * target.round_to)
            out[r] = np.sort(np.argsort(-s, kind="stable")[:k])
        return out

    all_scores = np.sort(np.concatenate(list(scores.values())))
    if target.ratio is not None:
        idx = int(target.ratio * len(all_scores))
        return keep_at(all_scores[idx - 1] if idx > 0 else -1.0)
    if target.latency is not None:
        if latency_fn is None:
            raise SlimError("a --latency budget needs a latency measurement (latency_fn)")
        base = latency_fn(g.model)
        metric, goal = (lambda m: latency_fn(m) / base), target.latency
    elif target.flops is not None:
        from plates.flops import count_macs

        base = count_macs(g.model)
        metric, goal = (lambda m: count_macs(m) / base), target.flops
    elif target.params is not None:
        base = g.model.count_params()
        metric, goal = (lambda m: m.count_params() / base), target.params
    else:
        raise SlimError("no slimming target: give one of ratio, flops, params, latency")
    lo, hi = 0, len(all_scores) - 1
    best = None
    while lo <= hi:  # smallest threshold index meeting the budget
        mid = (lo + hi) // 2
        keep = keep_at(all_scores[mid])
        value = metric(build(g, keep, weights=False))
        logger.info("slim plan: threshold %.4g keeps %.3f of the original (budget %.3f)", all_scores[mid], value, goal)
        if value <= goal:
            best, hi = keep, mid - 1
        else:
            lo = mid + 1
    if best is None:
        raise SlimError(
            f"cannot reach {goal:.2f} of the original with the floors (--min-fraction {target.min_fraction}, "
            f"--round-to {target.round_to}) and protected layers"
        )
    return best


# -- surgery ------------------------------------------------------------------------------


def _keep_for(g: Graph, layout: Layout, keep: dict[int, np.ndarray]) -> np.ndarray | None:
    """Indices along a tensor's channel (or flattened feature) axis that survive."""
    parts, off, changed = [], 0, False
    for sid, n in layout.segments:
        k = keep.get(g.find(sid))
        if k is None:
            k = np.arange(n)
        else:
            changed = changed or len(k) != n
        parts.append(off + k)
        off += n
    idx = np.concatenate(parts)
    if layout.spatial:
        idx = (np.arange(layout.spatial)[:, None] * off + idx[None, :]).reshape(-1)
    return idx if changed else None


def build(g: Graph, keep: dict[int, np.ndarray], weights: bool = True, probe: np.ndarray | None = None) -> keras.Model:
    """The slimmed model. With ``weights``, weights are sliced and - given ``probe`` images -
    what each removed input channel contributed is folded into its consumer's bias."""
    tensors: dict[str, Any] = {}
    pending: list[tuple[keras.layers.Layer, list[np.ndarray]]] = []
    plans = []
    for layer in g.model.layers:
        if isinstance(layer, layers.InputLayer):
            shape = layer.input_shape[0] if isinstance(layer.input_shape, list) else layer.input_shape
            tensors[layer.name] = keras.Input(batch_shape=shape, name=layer.name)
            continue
        handler = handler_for(layer)
        inbound = g.inputs[layer.name]
        keep_in = _keep_for(g, g.layouts[inbound[0]], keep)
        out_layout = g.layouts[layer.name]
        keep_out = _keep_for(g, out_layout, keep)
        if keep_out is None and isinstance(handler, Producer):
            keep_out = np.arange(out_layout.channels)
        cfg = handler.config(layer, keep_in, keep_out)
        fold = weights and probe is not None and isinstance(handler, Producer) and keep_in is not None
        if fold:
            cfg["use_bias"] = True
        new = type(layer).from_config(cfg)
        args = [tensors[n] for n in inbound]
        tensors[layer.name] = new(args if len(args) > 1 else args[0])
        if weights:
            pending.append((new, handler.weights(layer, keep_in, keep_out)))
            if fold:
                plans.append((len(pending) - 1, layer, inbound[0], keep_in, keep_out))
    outputs = [tensors[t._keras_history.layer.name] for t in g.model.outputs]  # noqa: SLF001
    model = keras.Model([tensors[n] for n in g.model.input_names], outputs, name=g.model.name)
    if plans and probe is not None:  # plans are only made with a probe
        means = _input_means(g.model, [src for _, _, src, _, _ in plans], probe)
        for i, layer, src, keep_in, keep_out in plans:
            assert keep_in is not None and keep_out is not None  # folds are planned for producers with both
            pending[i] = (pending[i][0], _fold(layer, means[src], keep_in, keep_out, pending[i][1]))
    for new, w in pending:
        new.set_weights(w)
    return model


def _input_means(model: keras.Model, names: list[str], probe: np.ndarray) -> dict[str, np.ndarray]:
    """Mean activation per channel (per feature after Flatten) of the named layers' outputs."""
    names = sorted(set(names))
    probe_model = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    outs = probe_model.predict(np.asarray(probe, np.float32), verbose=0)
    outs = outs if isinstance(outs, list) else [outs]
    return {n: o.reshape(-1, o.shape[-1]).mean(0) for n, o in zip(names, outs, strict=True)}


def _fold(layer, mean: np.ndarray, keep_in: np.ndarray, keep_out: np.ndarray, w: list[np.ndarray]) -> list:
    """bias += sum over removed inputs i of mean_i * sum over kernel taps of W[..., i, :].

    Exact for dead channels (gamma = 0: the channel is the constant act(beta)) away from
    zero-padded borders; mean-replacement for the other removed channels."""
    kernel = layer.get_weights()[0]
    removed = np.setdiff1d(np.arange(kernel.shape[-2]), keep_in)
    bias = w[1] if len(w) > 1 else np.zeros(len(keep_out), np.float32)
    if len(removed):
        taps = kernel[..., removed, :].sum(axis=tuple(range(kernel.ndim - 2)))  # (removed, out)
        bias = bias + (mean[removed] @ taps)[keep_out]
    return [w[0], bias.astype(np.float32)]


def zero_gamma_keep(g: Graph, tol: float = 0.0) -> dict[int, np.ndarray]:
    """Keep exactly the channels whose importance is above ``tol`` (for the equivalence check)."""
    out = {}
    for r in g.prunable():
        s = g.gammas(r)
        k = np.nonzero(s > tol)[0]
        out[r] = k if len(k) else np.array([int(np.argmax(s))])
    return out


def max_output_diff(a: keras.Model, b: keras.Model, images: np.ndarray) -> float:
    """Largest absolute difference of any output probability (the equivalence check)."""
    oa, ob = a.predict(images, verbose=0), b.predict(images, verbose=0)
    oa, ob = (oa if isinstance(oa, list) else [oa]), (ob if isinstance(ob, list) else [ob])
    return max(float(np.abs(x - y).max()) for x, y in zip(oa, ob, strict=True))


def summary(g: Graph, keep: dict[int, np.ndarray]) -> list[dict[str, Any]]:
    rows = []
    for r in g.roots():
        s = g.spaces[r]
        rows.append(
            {
                "group": s.members[0],
                "layers": len(s.members),
                "channels": s.size,
                "kept": len(keep[r]) if r in keep else s.size,
                "protected": s.protected or None,
            }
        )
    return rows


def sensitivity(
    g: Graph, evaluate: Callable[[keras.Model], float], fractions: Sequence[float], probe: np.ndarray | None = None
) -> list[dict]:
    """Accuracy after removing ``fraction`` of one group's lowest-gamma channels (no fine-tune)."""
    from tqdm import tqdm

    rows = []
    for r in tqdm(g.prunable(), desc="sensitivity", unit="group"):
        s = g.gammas(r)
        row = {"group": g.spaces[r].members[0], "channels": len(s)}
        for f in fractions:
            k = max(1, int(round(len(s) * (1 - f))))
            row[f"acc@{f:g}"] = evaluate(build(g, {r: np.sort(np.argsort(-s)[:k])}, probe=probe))
        rows.append(row)
        logger.info("sensitivity %s", row)
    return rows
