"""Model cards for shipped models: what a user needs to trust a folder under ``models/``.

A card is written from measurements, never typed by hand: the ``benchmarks run`` result files
of the folder's artefacts (one per evaluation set), the sample crops shipped beside the models
(read by every bundle, so a test can re-read them), and the sha256 of every file, so a test can
tell a card from a stale or swapped model. ``card.json`` is the machine-readable card,
``MODEL.md`` its rendering."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from plates.atomic import write_json, write_text
from plates.errors import PlateError
from plates.runinfo import sha256

CARD_FILES = ("card.json", "MODEL.md")
SELECTION_NOTE = (
    "plates-real-val is used for model selection (the best epoch) only: it is never trained or calibrated on."
)


class CardError(PlateError):
    """A card that cannot be written or does not match its folder."""


@dataclasses.dataclass
class CardInputs:
    """What the measurements cannot say: where the model came from."""

    title: str
    trained_on: str
    recipe: str
    notes: str = ""
    selection: str = SELECTION_NOTE


def card_inputs(folder: str | os.PathLike, **given: str | None) -> CardInputs:
    """The card's text: each field ``given`` (not None), the rest from the folder's ``card.json``.

    Measuring a shipped model again (another host, a newer runtime) changes its numbers, not where
    it came from, so a card written again keeps the words nobody passed this time.
    """
    path = Path(folder) / "card.json"
    previous: dict[str, Any] = {}
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CardError(f"{path}: cannot read the previous card to keep its text ({e})") from e
    fields = {}
    for field in dataclasses.fields(CardInputs):
        value = given.get(field.name)
        value = value if value is not None else previous.get(field.name)
        if value is not None:
            fields[field.name] = str(value)
    return CardInputs(**{"title": "", "trained_on": "", "recipe": "", **fields})


def file_hashes(folder: Path) -> dict[str, dict[str, Any]]:
    """Every file below ``folder`` except the card itself, by relative POSIX path."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in CARD_FILES and not p.name.startswith("."):
            out[rel] = {"bytes": p.stat().st_size, "sha256": sha256(p)}
    return out


def check_card(folder: str | os.PathLike) -> list[str]:
    """Problems between a card and its folder (empty = the files are the ones measured)."""
    import json

    folder = Path(folder)
    try:
        card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardError(
            f"{folder / 'card.json'}: missing (write it with benchmarks card FOLDER --results ...)"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CardError(f"{folder / 'card.json'}: not valid JSON ({exc})") from None
    recorded, actual = card["files"], file_hashes(folder)
    problems = [f"{rel}: in the card, missing on disk" for rel in recorded.keys() - actual.keys()]
    problems += [f"{rel}: on disk, not in the card" for rel in actual.keys() - recorded.keys()]
    problems += [
        f"{rel}: sha256 differs from the card"
        for rel in recorded.keys() & actual.keys()
        if recorded[rel]["sha256"] != actual[rel]["sha256"]
    ]
    return sorted(problems)


def _inside(path: str, folder: Path) -> str | None:
    p = Path(path).resolve()
    try:
        return p.parent.relative_to(folder.resolve()).as_posix()
    except ValueError:
        return None


def _accuracy_entry(acc: dict[str, Any]) -> dict[str, Any]:
    return {
        "images": acc["n"],
        "plate_accuracy": acc["plate_accuracy"],
        "char_accuracy": acc["char_accuracy"],
        "per_head_accuracy": acc["per_head_accuracy"],
        "recall_at_precision_999": acc["recall_at_precision_999"]["recall"],
        "confusions": acc.get("confusions", {}),
    }


def sample_reads(bundle: Path, samples: Path) -> dict[str, Any]:
    """What a bundle reads on the shipped sample crops (named by their plate text)."""
    from deploy.predictor import Predictor

    p = Predictor(bundle)
    files = sorted(f for f in samples.iterdir() if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
    reads = {f.name: p.read(p.load(f))[0]["text"] for f in files}
    correct = sum(text == Path(name).stem for name, text in reads.items())
    return {"images": len(files), "correct": correct, "reads": reads}


def build_card(
    folder: str | os.PathLike,
    results: dict[str, str | os.PathLike],
    inputs: CardInputs,
    samples: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """The card of ``folder`` from ``results`` (evaluation-set name -> ``benchmarks run`` JSON)."""
    from benchmarks.report import load_results

    folder = Path(folder)
    artefacts: dict[str, dict[str, Any]] = {}
    runs_meta = []
    for set_name, path in results.items():
        for run in load_results([path]):
            runs_meta.append({"set": set_name, "file": str(path), "command": run["command"], "time": run["time"]})
            for row in run["artefacts"]:
                rel = _inside(row["path"], folder)
                if rel is None:
                    continue
                entry = artefacts.setdefault(
                    rel,
                    {"kind": row["kind"], "precision": row["precision"], "size_bytes": row["size_bytes"]},
                )
                for key in ("params", "macs"):
                    if key in row:
                        entry[key] = row[key]
                if "accuracy" in row:
                    entry.setdefault("accuracy", {})[set_name] = _accuracy_entry(row["accuracy"])
                for lat in row.get("latency") or []:
                    entry.setdefault("latency", []).append(
                        {k: lat.get(k) for k in ("runtime", "threads", "batch", "p50_ms", "p90_ms", "p99_ms")}
                    )
                entry.setdefault("machine", run["machine"])
                entry.setdefault("versions", run["versions"])
    if not artefacts:
        raise CardError(f"{folder}: none of the result files measured an artefact in this folder")
    if samples is not None:
        for rel, entry in artefacts.items():
            if entry["kind"] != "keras":
                entry["samples"] = sample_reads(folder / rel, Path(samples))
    return {
        "format": "plate-edge-card/1",
        "title": inputs.title,
        "trained_on": inputs.trained_on,
        "selection": inputs.selection,
        "recipe": inputs.recipe,
        "notes": inputs.notes,
        "samples": str(samples) if samples is not None else None,
        "measured_by": runs_meta,
        "artefacts": dict(sorted(artefacts.items())),
        "files": file_hashes(folder),
    }


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def markdown(card: dict[str, Any]) -> str:
    sets = sorted({s for a in card["artefacts"].values() for s in a.get("accuracy", {})})
    lines = [
        f"# {card['title']}",
        "",
        f"**Trained on.** {card['trained_on']}",
        "",
        f"**Selection.** {card['selection']}",
    ]
    lines += ["", "**Reproduce.**", "", "```", card["recipe"], "```"]
    if card["notes"]:
        lines += ["", card["notes"]]
    head = "| artefact | size | " + " | ".join(f"{s} plates | {s} recall @ 99.9% precision" for s in sets)
    lines += ["", "## Accuracy (full plate), size, latency", "", head + " | p50 latency |"]
    lines.append("|---|---:|" + "---:|---:|" * len(sets) + "---|")
    for rel, a in card["artefacts"].items():
        acc = a.get("accuracy", {})
        cells = [
            f"{_pct(acc.get(s, {}).get('plate_accuracy'))} | {_pct(acc.get(s, {}).get('recall_at_precision_999'))}"
            for s in sets
        ]
        lat = ", ".join(
            f"{x['p50_ms']:.3f} ms ({x['runtime'].split(' ')[0]}, {x['threads']} thr, batch {x['batch']})"
            for x in a.get("latency", [])
        )
        lines.append(f"| `{rel}` | {a['size_bytes'] / 1e6:.2f} MB | " + " | ".join(cells) + f" | {lat or '-'} |")
    for s in sets:
        rows = [(rel, a["accuracy"][s]) for rel, a in card["artefacts"].items() if s in a.get("accuracy", {})]
        heads = [h for h, v in rows[0][1]["per_head_accuracy"].items() if v is not None]
        lines += ["", f"## Per head on {s} ({rows[0][1]['images']} crops)", ""]
        lines += ["| artefact | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
        lines += [
            f"| `{rel}` | " + " | ".join(_pct(e["per_head_accuracy"][h]) for h in heads) + " |" for rel, e in rows
        ]
        first = rows[0][1].get("confusions", {})
        top = [
            f"{h}: " + ", ".join(f"{c['true']} -> {c['pred']} {c['count']}x" for c in cs[:3])
            for h, cs in first.items()
            if cs
        ]
        if top:
            lines += ["", f"Main confusions of `{rows[0][0]}`: " + "; ".join(top[:4]) + "."]
    with_samples = [(rel, a["samples"]) for rel, a in card["artefacts"].items() if "samples" in a]
    if with_samples:
        lines += ["", f"## Shipped sample crops (`{card['samples']}`)", ""]
        lines += [f"- `{rel}` reads {s['correct']} of {s['images']}" for rel, s in with_samples]
    machine = next(iter(card["artefacts"].values()))["machine"]
    lines += ["", "## Measured by", ""]
    lines += [f"- {m['set']}: `{m['command']}` ({m['time']}, `{m['file']}`)" for m in card["measured_by"]]
    lines += [f"- machine: {machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('system')}"]
    lines += ["", "## Files (sha256)", ""]
    lines += [f"- `{rel}` {f['bytes']} bytes `{f['sha256']}`" for rel, f in card["files"].items()]
    return "\n".join(lines) + "\n"


def write_card(
    folder: str | os.PathLike,
    results: dict[str, str | os.PathLike],
    inputs: CardInputs,
    samples: str | os.PathLike | None = None,
) -> Path:
    folder = Path(folder)
    card = build_card(folder, results, inputs, samples)
    write_json(folder / "card.json", card)
    write_text(folder / "MODEL.md", markdown(card))
    return folder / "MODEL.md"
