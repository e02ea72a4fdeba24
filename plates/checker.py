"""Data checker: every problem in a data source, without stopping at the first.

For a label file: unreadable or missing images, labels out of range (unknown characters), bad
lengths (a mandatory position missing, a gap before an optional one), malformed rows and
duplicates (the same path twice, or byte-identical images under different names). For any
other source the commands accept (a folder of named crops, a CCPD folder, a generated set):
names that are not plate texts (named crops) or CCPD names the reader skips (corners enclosing
no area, ...), unreadable images or corners, and byte-identical duplicates."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections import defaultdict
from pathlib import Path

from plates.codec import UNSURE
from plates.errors import LabelError, PlateError
from plates.images import load_rgb
from plates.readers import IMAGE_SUFFIXES, Samples, _parse_label_line, ccpd_labels, read_any, read_folder
from plates.spec import PlateSpec


@dataclasses.dataclass(frozen=True)
class Problem:
    line: int
    path: str
    kind: str  # malformed | unreadable | length | duplicate
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.path}: {self.kind}: {self.message}"


def check_label_file(
    label_file: str | os.PathLike, spec: PlateSpec, check_images: bool = True
) -> tuple[int, list[Problem]]:
    """Return (number of rows, problems)."""
    label_file = Path(label_file)
    root = label_file.parent
    problems: list[Problem] = []
    seen_path: dict[str, int] = {}
    by_digest: dict[str, list[tuple[int, str]]] = defaultdict(list)
    rows = 0
    chars = [i for i, h in enumerate(spec.heads) if h.kind == "char"]
    try:
        lines = label_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return 0, [Problem(0, str(label_file), "unreadable", f"cannot read label file: {exc}")]
    for lineno, line in enumerate(lines, 1):
        try:
            row = _parse_label_line(line, len(spec.heads), spec, f"{label_file}:{lineno}")
        except LabelError as exc:
            problems.append(
                Problem(lineno, line.split()[0] if line.split() else "", "malformed", str(exc).split(": ", 1)[-1])
            )
            continue
        if row is None:
            continue
        rows += 1
        rel, values = row
        if rel in seen_path:
            problems.append(Problem(lineno, rel, "duplicate", f"same path as line {seen_path[rel]}"))
        seen_path.setdefault(rel, lineno)
        problems += _length_problems(spec, chars, values, lineno, rel)
        if check_images:
            path = root / rel
            try:
                load_rgb(path)
                by_digest[hashlib.sha1(path.read_bytes()).hexdigest()].append((lineno, rel))
            except PlateError as exc:
                problems.append(Problem(lineno, rel, "unreadable", str(exc).split(": ", 1)[-1]))
    for group in by_digest.values():
        names = {rel for _, rel in group}
        if len(names) > 1:
            first_line, first = group[0]
            for lineno, rel in group[1:]:
                if rel != first:
                    problems.append(
                        Problem(lineno, rel, "duplicate", f"same image bytes as {first} (line {first_line})")
                    )
    return rows, sorted(problems, key=lambda p: p.line)


def _length_problems(spec: PlateSpec, chars: list[int], values: list[int], lineno: int, rel: str) -> list[Problem]:
    out = []
    empty_seen = False
    for i in chars:
        head = spec.heads[i]
        v = values[i]
        if v == UNSURE:  # a cell the crop cuts off: the plate's length is not in question
            continue
        if v < 0:
            if not head.optional:
                out.append(Problem(lineno, rel, "length", f"mandatory position {head.name} has no label"))
            continue
        is_empty = head.classes[v] == ""
        if empty_seen and not is_empty:
            out.append(Problem(lineno, rel, "length", f"{head.name} holds a character after an empty position"))
        empty_seen = empty_seen or is_empty
    return out


def unreadable(samples: Samples) -> list[tuple[int, str]]:
    """``(index, message)`` of every sample whose image does not decode, or whose plate corners
    (CCPD) cannot be rectified, read as training reads it (``plates.decode``, at a tiny size)."""
    from plates.decode import decode_crops

    _, rows, errors = decode_crops(samples, (8, 16))
    return [(i, errors[r]) for i, r in enumerate(rows) if r in errors]


def _ccpd_name_problems(
    folder: Path | None, spec: PlateSpec, read: set[str], looks_only: bool = False
) -> list[Problem]:
    """The images below a CCPD ``folder`` that its reader skipped, each with the reason (corners
    that enclose no area, a character index out of range, ...). The reader only logs a warning
    per file and goes on; a check must list them, or it passes a folder training half ignores.
    ``looks_only``: only names with CCPD's dash-separated fields (a folder of neither kind)."""
    if folder is None or not folder.is_dir():
        return []
    problems = []
    for f in sorted(folder.rglob("*")):
        if f.suffix.lower() not in IMAGE_SUFFIXES or str(f) in read or (looks_only and f.name.count("-") < 4):
            continue
        try:
            ccpd_labels(f.name, spec)
        except LabelError as exc:
            problems.append(Problem(0, str(f), "malformed", str(exc).split(": ", 1)[-1]))
    return problems


def check_source(source: str, spec: PlateSpec, check_images: bool = True) -> tuple[int, list[Problem]]:
    """(number of samples, problems) for any data source; label files get the full row checks."""
    path = Path(source[len("synth:") :] if source.startswith("synth:") else source)
    if path.is_dir() and (path / "labels.txt").is_file():
        path = path / "labels.txt"
    if path.is_file():
        return check_label_file(path, spec, check_images)
    named_crops = path.is_dir()
    ccpd = Path(source[len("ccpd:") :]) if source.startswith("ccpd:") else None
    try:
        try:
            samples = read_folder(path, spec, strict=False) if named_crops else read_any(source, spec)
        except PlateError:
            if not named_crops:
                raise
            named_crops, ccpd = False, path  # no plate-text names: CCPD?
            samples = read_any(f"ccpd:{path}", spec)
    except PlateError as exc:
        # nothing read: name each file the CCPD reader skipped (for a folder that may be neither
        # kind, those whose names look like CCPD names), not only the folder
        looks_only = not source.startswith("ccpd:")
        return 0, [Problem(0, source, "unreadable", str(exc)), *_ccpd_name_problems(ccpd, spec, set(), looks_only)]
    problems: list[Problem] = []
    if named_crops:
        named = set(samples.paths)
        for f in sorted(path.iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES and str(f) not in named:
                problems.append(Problem(0, f.name, "malformed", "file name is not a plate text"))
    problems += _ccpd_name_problems(ccpd, spec, set(samples.paths))
    if check_images:
        problems += [
            Problem(i + 1, samples.paths[i], "unreadable", m.split(": ", 1)[-1]) for i, m in unreadable(samples)
        ]
        by_digest: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(samples.paths):
            if Path(p).is_file():
                by_digest[hashlib.sha1(Path(p).read_bytes()).hexdigest()].append(i)
        for group in by_digest.values():
            for i in group[1:]:
                first = samples.paths[group[0]]
                problems.append(Problem(i + 1, samples.paths[i], "duplicate", f"same image bytes as {first}"))
    return len(samples), sorted(problems, key=lambda p: (p.line, p.path))
