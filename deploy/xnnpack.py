"""Which ops of a TFLite model XNNPACK takes, and how many pieces the graph falls into.

An op XNNPACK does not support runs on LiteRT's own kernels and cuts the delegated graph
in two; every cut costs a hand-over. int8 ``HARD_SWISH`` is not delegated, so a stock
MobileNetV3 int8 model falls into many pieces and can run slower than its fp32 twin; the
minimalistic variant (ReLU, no SE) keeps none (docs/experiments/004 and 011). The per-image
whitening's scale (RSQRT, MAXIMUM) and the softmaxes have no int8 kernel either, so an int8
export keeps them in float (``XNNPACK_FLOAT_OPS``) unless ``--integer-only``. This is what the
"int8 slower than fp32" warning points at."""

from __future__ import annotations

import collections
import os
from typing import Any

# ops XNNPACK has no int8 kernel for, which an int8 export keeps in float unless --integer-only:
# the whitening's scale (MAXIMUM, RSQRT: one number per image) and the output softmaxes. In int8
# each runs on LiteRT's own kernels and cuts XNNPACK's graph; in float XNNPACK takes them, and the
# probabilities are finer than an int8 softmax's steps of 1/256.
XNNPACK_FLOAT_OPS = ("MAXIMUM", "RSQRT", "SOFTMAX")


def xnnpack_coverage(path: str | os.PathLike) -> dict[str, Any]:
    """``{"partitions": XNNPACK pieces, "outside": {op: count}}`` for a .tflite file.

    Reads the interpreter's node list after the default delegate is applied: delegated ops
    are folded into ``DELEGATE`` nodes; an op whose output feeds a ``DELEGATE`` node (or is a
    graph output) without coming out of one ran outside XNNPACK. Uses LiteRT's private
    ``_get_ops_details``; returns ``{}`` where it is missing. A chain of such ops is followed
    back: a tensor that crosses into an outside op without leaving a ``DELEGATE`` node was
    made outside too."""
    from deploy.predictor import tflite_interpreter

    interpreter = tflite_interpreter(path, 1)
    interpreter.allocate_tensors()
    details = getattr(interpreter, "_get_ops_details", None)
    if details is None:
        return {}
    nodes = details()
    ops = [o for o in nodes if o["op_name"] != "DELEGATE"]
    delegates = [o for o in nodes if o["op_name"] == "DELEGATE"]
    produced = {int(t) for o in delegates for t in o["outputs"]}
    needed = {int(t) for o in delegates for t in o["inputs"]} | {d["index"] for d in interpreter.get_output_details()}
    outside: list[dict] = []
    while True:  # a tensor needed outside XNNPACK and not handed out by it comes from an op outside it
        new = [
            o
            for o in ops
            if o not in outside
            and any(int(t) in needed for t in o["outputs"])
            and not any(int(t) in produced for t in o["outputs"])
        ]
        if not new:
            break
        outside += new
        needed |= {int(t) for o in new for t in o["inputs"]}
    counts = collections.Counter(o["op_name"] for o in outside)
    return {"partitions": len(delegates), "outside": dict(counts.most_common())}


def describe(coverage: dict[str, Any]) -> str:
    """'22 XNNPACK piece(s); ops outside XNNPACK: HARD_SWISH x18, ...' (empty when unknown)."""
    if not coverage:
        return ""
    outside = ", ".join(f"{op} x{n}" for op, n in coverage["outside"].items()) or "nothing"
    return f"{coverage['partitions']} XNNPACK piece(s); ops outside XNNPACK: {outside}"
