"""Agreement between an exported artefact and its Keras source, measured right after export.

Float exports must agree almost exactly; quantised ones statistically (top-1 per head and
whole plates). The report goes into the bundle's ``export_report.json``; an export below
its threshold fails loudly."""

from __future__ import annotations

from typing import Any

import numpy as np

from plates.codec import top_labels
from plates.errors import PlateError
from plates.spec import PlateSpec

#: default minimum plate-level agreement per export kind
THRESHOLDS = {"fp32": 0.999, "fp16": 0.99, "dynamic": 0.97, "int8": 0.95}


class ParityError(PlateError):
    """An export disagrees with its Keras model more than allowed."""


def compare(spec: PlateSpec, reference: dict[str, np.ndarray], candidate: dict[str, np.ndarray]) -> dict[str, Any]:
    ref, cand = top_labels(spec, reference), top_labels(spec, candidate)
    chars = [i for i, h in enumerate(spec.heads) if h.kind == "char"]
    diff = max(float(np.abs(reference[n] - candidate[n]).max()) for n in spec.names)
    return {
        "images": int(len(ref)),
        "plate_agreement": float((ref[:, chars] == cand[:, chars]).all(1).mean()),
        "head_agreement": {n: float((ref[:, i] == cand[:, i]).mean()) for i, n in enumerate(spec.names)},
        "max_abs_prob_diff": diff,
    }


def enforce(report: dict[str, Any], kind: str, min_agreement: float | None, where: str) -> dict[str, Any]:
    threshold = THRESHOLDS[kind] if min_agreement is None else min_agreement
    report["threshold"] = threshold
    report["passed"] = report["plate_agreement"] >= threshold
    if not report["passed"]:
        raise ParityError(
            f"{where}: plate-level agreement with the Keras model is {report['plate_agreement']:.4f}, below "
            f"{threshold} for {kind} (worst head: {min(report['head_agreement'].items(), key=lambda kv: kv[1])}); "
            "try --keep-float / --debug-quant, or lower --min-agreement"
        )
    return report
