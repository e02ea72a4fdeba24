"""Record training runs (teacher, students, slimming, QAT) as JSON + Markdown results."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from plates.atomic import write_json, write_text
from plates.errors import DataError


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def collect(run: str | os.PathLike) -> dict[str, Any]:
    run = Path(run)
    manifest = _load(run / "manifest.json")
    if manifest is None:
        raise DataError(f"{run}: no manifest.json (not a training run folder)")
    history = _load(run / "history.json") or []
    ev = _load(run / "eval.json") or {}
    return {
        "run": str(run),
        "command": manifest.get("command"),
        "time": manifest.get("time"),
        "git": manifest.get("git"),
        "machine": manifest.get("machine"),
        "versions": manifest.get("versions"),
        "data": manifest.get("data"),
        "model": manifest.get("model"),
        "config": _load(run / "config.json"),
        "train_seconds": round(sum(h.get("seconds", 0) for h in history), 1),
        "images_per_second": [h.get("images_per_second") for h in history],
        "val_plate_accuracy_by_epoch": [h.get("val_plate_accuracy") for h in history],
        "val_char_accuracy_by_epoch": [h.get("val_char_accuracy") for h in history],
        "eval": {
            k: ev.get(k)
            for k in (
                "data",
                "n",
                "plate_accuracy",
                "char_accuracy",
                "per_head_accuracy",
                "recall_at_precision_999",
                "operating_points",
                "confusions",
            )
        },
        "slim": _load(run / "slim_report.json"),
        "qat": _load(run / "qat_report.json"),
    }


def markdown(records: list[dict[str, Any]], title: str) -> str:
    lines = [f"# {title}", ""]
    for r in records:
        ev = r["eval"]
        m = r.get("machine") or {}
        lines += [
            f"## {r['run']}",
            "",
            f"- command: `{r['command']}`",
            f"- when: {r['time']} (git {r['git']}); machine: {m.get('cpu')}, {m.get('cores')} cores",
            f"- model: {r['model']}",
            f"- data: {r['data']}",
            f"- training time: {r['train_seconds'] / 60:.1f} min; images/s per epoch: {r['images_per_second']}",
            "- validation full-plate accuracy by epoch: "
            + ", ".join(f"{v:.3f}" for v in r["val_plate_accuracy_by_epoch"] if v is not None),
            "- validation character accuracy by epoch: "
            + ", ".join(f"{v:.3f}" for v in r.get("val_char_accuracy_by_epoch", []) if v is not None),
        ]
        if ev.get("n"):
            rp = ev["recall_at_precision_999"] or {}
            lines += [
                f"- **final evaluation on {ev['data']} ({ev['n']} plates): full-plate accuracy "
                f"{ev['plate_accuracy']:.4f}, character accuracy {ev['char_accuracy']:.4f}, recall at 99.9% "
                f"precision {rp.get('recall', 0):.4f}**",
                "- per head: " + ", ".join(f"{k} {v:.4f}" for k, v in ev["per_head_accuracy"].items() if v is not None),
                "- main error kinds (true -> predicted x count):",
            ]
            for head, confs in ev["confusions"].items():
                if confs:
                    lines.append(f"  - {head}: " + ", ".join(f"{c['true']}->{c['pred']} x{c['count']}" for c in confs))
        if r.get("qat"):
            q = r["qat"]
            lines.append(
                f"- QAT: Keras (fake-quant) accuracy {q['qat_keras_plate_accuracy']:.4f}, TFLite int8 "
                f"{q['tflite_int8_plate_accuracy']:.4f} (gap {q['gap_points']:.2f} points)"
            )
        if r.get("slim"):
            s = r["slim"]
            litert = "litert_p50_ms_batch1" in s["rows"][0]  # reports before the LiteRT column had TF only
            speed = f"LiteRT speed-up x{s['speedup_litert_p50']:.2f}, " if litert else ""
            lines.append(
                f"- slimming: MACs x{s['macs_ratio']:.3f}, params x{s['params_ratio']:.3f}, {speed}TF CPU speed-up "
                f"x{s['speedup_cpu_p50']:.2f}; equivalence check max diff "
                f"{s['equivalence_check']['max_output_diff']:.2e}"
            )
            col = " LiteRT p50 ms |" if litert else ""
            lines += [
                "",
                f"| model | params | MMACs | TF p50 ms |{col} full-plate |",
                "|---|---:|---:|---:|---:|" + "---:|" * litert,
            ]
            lines += [
                f"| {x['model']} | {x['params']:,} | {x['macs'] / 1e6:.1f} | {x['cpu_p50_ms_batch1']:.2f} | "
                + (f"{x['litert_p50_ms_batch1']:.2f} | " if litert else "")
                + f"{x.get('plate_accuracy', float('nan')):.4f} |"
                for x in s["rows"]
            ]
        lines.append("")
    return "\n".join(lines)


def record(runs: list[str], out: str | os.PathLike, title: str) -> Path:
    records = [collect(r) for r in runs]
    out = Path(out)
    write_json(out.with_suffix(".json"), {"title": title, "runs": records})
    write_text(out.with_suffix(".md"), markdown(records, title))
    return out.with_suffix(".md")
