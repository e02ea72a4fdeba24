"""``plates``: data commands (synthetic generation, label checking, splitting)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from plates.cli_support import add_common, fraction, positive, probability, run, share, share_range


def cmd_synth(args: argparse.Namespace) -> int:
    from plates.synth.generate import generate
    from plates.synth.render import RenderConfig

    render = RenderConfig(
        rounded_share=args.rounded_share,
        hanzi_faces=args.hanzi_faces,
        hanzi_ink_cap=args.hanzi_ink_cap,
        hanzi_keep_counters=args.hanzi_keep_counters,
    )
    out = generate(args.out, args.count, seed=args.seed, workers=args.workers, progress=not args.quiet, render=render)
    print(out)
    return 0


def hanzi_faces(text: str) -> tuple[str, ...]:
    """``--hanzi-faces``: comma-separated names from ``HANZI_FACES``, or ``all``."""
    from plates.synth.render import HANZI_FACES

    names = tuple(HANZI_FACES) if text == "all" else tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in HANZI_FACES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown face(s) {unknown or [text]}; known: all, {', '.join(HANZI_FACES)}")
    return names


def cmd_permute(args: argparse.Namespace) -> int:
    from plates.readers import read_sources
    from plates.spec import default_spec
    from plates.synth.permute import PermuteConfig, permute

    spec = default_spec()
    samples = read_sources(args.source, spec)
    donors = read_sources(args.province_donors, spec) if args.province_donors else None
    config = PermuteConfig(args.count, args.seed, donor_share=args.donor_share, province_power=args.province_power)
    if args.no_balance:
        config = dataclasses.replace(config, balance_first=False, balance_glyphs=0.0)
    print(permute(samples, spec, args.out, config, donors))
    return 0


def cmd_cut_province(args: argparse.Namespace) -> int:
    from plates.readers import read_sources
    from plates.spec import default_spec
    from plates.synth.cut import CutConfig, cut_province

    spec = default_spec()
    config = CutConfig(args.count, args.seed, args.depth, args.unsure_from)
    print(cut_province(read_sources(args.source, spec), spec, args.out, config))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from plates.checker import check_source
    from plates.spec import default_spec

    rows, problems = check_source(args.label_file, default_spec(), check_images=not args.no_images)
    for p in problems:
        print(p)
    kinds: dict[str, int] = {}
    for p in problems:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    print(
        f"{args.label_file}: {rows} entries, {len(problems)} problems"
        + (" (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")" if kinds else "")
    )
    return 1 if problems else 0


def cmd_split(args: argparse.Namespace) -> int:
    from pathlib import Path

    from plates import logger
    from plates.checker import unreadable
    from plates.errors import DataError
    from plates.readers import read_any, split, write_label_file
    from plates.spec import default_spec

    samples = read_any(args.source, default_spec())
    bad = unreadable(samples)
    if bad and not args.skip_bad_images:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise DataError(f"{bad[0][1]}{more}; fix or remove them, or leave them out with --skip-bad-images")
    if bad:
        logger.warning("left out %d unreadable images (first: %s)", len(bad), bad[0][1])
        samples = samples.subset(sorted(set(range(len(samples))) - {i for i, _ in bad}))
    train, held = split(samples, args.fraction, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_label_file(out / "train.txt", train, out)
    write_label_file(out / "val.txt", held, out)
    print(f"{out}/train.txt: {len(train)} images, {out}/val.txt: {len(held)} images (seed {args.seed})")
    return 0


def _add_synth(sub: argparse._SubParsersAction) -> None:
    from plates.synth.render import DEFAULT_HANZI_FACES

    p = sub.add_parser("synth", help="generate synthetic labelled plate crops")
    p.add_argument("--out", required=True, help="output folder (images/, labels.txt, meta.json)")
    p.add_argument("-n", "--count", type=positive, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument(
        "--rounded-share",
        type=share,
        default=0.0,
        metavar="F",
        help="share of plates whose 0, C, D, G, Q are drawn straight-sided as on real plates, not from a font",
    )
    p.add_argument(
        "--hanzi-faces",
        type=hanzi_faces,
        default=DEFAULT_HANZI_FACES,
        metavar="NAMES",
        help=f"faces the Hanzi are drawn from, comma-separated, or all (default: {','.join(DEFAULT_HANZI_FACES)})",
    )
    p.add_argument(
        "--hanzi-ink-cap",
        type=probability,
        default=1.0,
        metavar="F",
        help="thin any Hanzi that would ink more than F of its box (e.g. 0.55), so dense provinces such as 冀 keep "
        "open strokes instead of becoming solid blocks when the plate's weight is heavy (default 1: off)",
    )
    p.add_argument(
        "--hanzi-keep-counters",
        action="store_true",
        help="thicken a Hanzi only as far as it keeps the enclosed gaps its face draws it with, so dense "
        "provinces such as 冀 do not close up while a bold 京 stays bold",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_synth)


def _add_made_from_real(p: argparse.ArgumentParser, source_help: str) -> None:
    """The arguments of a command that writes a labelled set made from real crops."""
    p.add_argument("source", nargs="+", help=source_help)
    p.add_argument("--out", required=True, help="output folder (images/, labels.txt, meta.json)")
    p.add_argument("-n", "--count", type=positive, default=5000)
    p.add_argument("--seed", type=int, default=0)


def _add_permute(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("permute", help="recombine the character cells of real tight crops into new labelled plates")
    _add_made_from_real(p, "labelled real crops (label file, folder of named crops, ...)")
    p.add_argument(
        "--no-balance",
        action="store_true",
        help="draw every cell from the same position of a random crop (by default the province is drawn uniformly "
        "over the provinces present, and half the other cells' characters uniformly, from any position)",
    )
    p.add_argument(
        "--province-power",
        type=share,
        default=0.0,
        metavar="P",
        help="draw a province in proportion to (crops holding it) ** P: 0 uniform over the provinces present "
        "(default), 1 the real mix; between, a province of a few crops is not shown as often as a common one",
    )
    p.add_argument(
        "--province-donors",
        action="append",
        default=[],
        metavar="SRC",
        help="labelled plates (e.g. plates synth) that give province cells only, for provinces the real crops lack",
    )
    p.add_argument(
        "--donor-share",
        type=share,
        default=None,
        metavar="F",
        help="with --province-donors: the share of plates whose province is donated (default: uniform over all)",
    )
    p.set_defaults(func=cmd_permute)


def _add_cut_province(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cut-province",
        help="crops of real plates whose left edge cuts into the province character, the province labelled "
        "unsure (-2: a uniform target), so the province head learns not to guess a cut glyph with confidence",
    )
    _add_made_from_real(p, "labelled real crops (the province may be unknown)")
    p.add_argument(
        "--depth",
        type=share_range,
        default=(0.2, 0.9),
        metavar="LO,HI",
        help="how far into the province cell the cut goes, drawn uniformly: 0 its left edge, 1 its right "
        "(default 0.2,0.9)",
    )
    p.add_argument(
        "--unsure-from",
        type=share,
        default=0.0,
        metavar="D",
        help="cuts shallower than D keep the province label, deeper ones are unsure (default 0: all unsure)",
    )
    p.set_defaults(func=cmd_cut_province)


def _add_check_and_split(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check a data source: unreadable images, unknown characters, lengths, names, duplicates"
    )
    p.add_argument("label_file", metavar="SRC", help="label file, folder of named crops, ccpd:DIR or generated set")
    p.add_argument("--no-images", action="store_true", help="skip opening the images")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("split", help="split a labelled set into train.txt / val.txt label files")
    p.add_argument("source", help="label file, folder of named crops, or CCPD folder")
    p.add_argument("--fraction", type=fraction, default=0.5, help="held-out fraction (val.txt)")
    p.add_argument("--skip-bad-images", action="store_true", help="leave unreadable images out (counted)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_split)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plates", description=__doc__)
    add_common(parser)
    sub = parser.add_subparsers(metavar="COMMAND")
    for add in (_add_synth, _add_permute, _add_cut_province, _add_check_and_split):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
