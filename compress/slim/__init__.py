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

Modules: ``channels`` (spaces, layouts), ``handlers`` (the per-layer table), ``graph`` (the
channel-space graph), ``plan`` (target and planner), ``surgery`` (rebuild, equivalence check),
``sensitivity``."""

from compress.slim.channels import Layout, SlimError, Space
from compress.slim.graph import Graph
from compress.slim.handlers import HANDLERS, Handler, handler_for
from compress.slim.plan import Target, plan, summary
from compress.slim.sensitivity import sensitivity
from compress.slim.surgery import build, max_output_diff, zero_gamma_keep

__all__ = [
    "HANDLERS",
    "Graph",
    "Handler",
    "Layout",
    "SlimError",
    "Space",
    "Target",
    "build",
    "handler_for",
    "max_output_diff",
    "plan",
    "sensitivity",
    "summary",
    "zero_gamma_keep",
]
