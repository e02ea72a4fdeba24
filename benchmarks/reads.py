"""Do two runtimes read the same plates? Compares the ``reads`` that ``runner.py --images``
records per bundle (a device, or an emulated CPU, against the host), bundle by bundle."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from benchmarks.report import load_results
from plates.atomic import write_json, write_text
from plates.errors import DataError


def _reads(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, dict]]:
    runs = load_results([path])
    by_name = {a["name"]: a["reads"] for r in runs for a in r["artefacts"] if "reads" in a}
    if not by_name:
        raise DataError(f"{path}: no bundle readings in it (run the device runner with --images)")
    return {"machine": runs[0].get("machine", {}), "versions": runs[0].get("versions", {})}, by_name


def compare_reads(device: str | os.PathLike, host: str | os.PathLike) -> dict[str, Any]:
    dev_meta, dev = _reads(device)
    host_meta, ref = _reads(host)
    rows = []
    for name in sorted(dev.keys() & ref.keys()):
        a, b = dev[name]["texts"], ref[name]["texts"]
        common = sorted(a.keys() & b.keys())
        same = sum(a[k] == b[k] for k in common)
        rows.append(
            {
                "bundle": name,
                "images": len(common),
                "same_text": same / max(len(common), 1),
                "device_correct": dev[name]["correct"] / max(dev[name]["images"], 1),
                "host_correct": ref[name]["correct"] / max(ref[name]["images"], 1),
                "differences": {k: [a[k], b[k]] for k in common if a[k] != b[k]},
            }
        )
    if not rows:
        raise DataError(f"{device} and {host} share no bundle names")
    return {
        "device": {"file": str(device), **dev_meta},
        "host": {"file": str(host), **host_meta},
        "bundles": rows,
    }


def write_comparison(result: dict[str, Any], out: str | os.PathLike, command: str) -> Path:
    out = Path(out)
    d, h = result["device"]["machine"], result["host"]["machine"]
    dv, hv = result["device"]["versions"], result["host"]["versions"]
    lines = [
        "# Same plates read on two runtimes",
        "",
        f"- command: `{command}`",
        f"- device: {d.get('arch')} {d.get('system', '')}" + (f" ({d['note']})" if d.get("note") else ""),
        f"  ({', '.join(f'{k} {v}' for k, v in dv.items())})",
        f"- host: {h.get('arch')} {h.get('cpu', '')} {h.get('system', '')}",
        f"  ({', '.join(f'{k} {v}' for k, v in hv.items())})",
        "",
        "| bundle | images | same text | device reads correctly | host reads correctly |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['bundle']} | {r['images']} | {100 * r['same_text']:.2f}% | {100 * r['device_correct']:.1f}% | "
        f"{100 * r['host_correct']:.1f}% |"
        for r in result["bundles"]
    ]
    for r in result["bundles"]:
        if r["differences"]:
            first = list(r["differences"].items())[:5]
            lines += ["", f"{r['bundle']}: differs on " + ", ".join(f"{k} ({a} vs {b})" for k, (a, b) in first)]
    write_json(out.with_suffix(".json"), {"command": command, **result})
    return write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
