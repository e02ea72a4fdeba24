import dataclasses
import hashlib
import json
from collections import Counter

import numpy as np
import pytest

from plates.codec import encode
from plates.errors import DataError
from plates.synth.generate import iter_plates, sample_plate


def _digest(n, seed, workers):
    h = hashlib.sha256()
    for s, jpeg in iter_plates(n, seed=seed, workers=workers):
        h.update(s.text.encode() + jpeg)
    return h.hexdigest()


def test_generator_is_deterministic_whatever_the_worker_count():
    a = _digest(300, seed=11, workers=1)
    assert a == _digest(300, seed=11, workers=2)  # 2 chunks across 2 processes
    assert a != _digest(300, seed=12, workers=1)


def test_every_plate_type_appears_with_valid_labels(spec):
    rng = np.random.default_rng(0)
    kinds = Counter()
    lengths = Counter()
    for _ in range(2000):
        s = sample_plate(rng)
        encode(spec, s.text, {"colour": s.colour, "layout": s.layout})  # raises if invalid
        kinds[(s.colour, s.layout)] += 1
        lengths[len(s.text)] += 1
        if s.colour == "green":
            assert len(s.text) == 8
    assert set(kinds) == {
        ("blue", "single"),
        ("yellow", "single"),
        ("yellow", "double"),
        ("green", "single"),
        ("white", "single"),
        ("black", "single"),
    }
    assert lengths[7] > 0 and lengths[8] > 0
    specials = {s[-1] for s in (sample_plate(rng).text for _ in range(3000))} & set("学警挂港澳领使")
    assert specials == set("学警挂港澳领使")
    provinces = Counter(sample_plate(rng).text[0] for _ in range(3100))
    assert max(provinces.values()) < 3 * min(provinces.values())  # no home province by default


def test_generated_folder_is_a_readable_labelled_set(synth_dir, synth_samples, spec):
    import json

    from plates.images import load_rgb

    meta = json.loads((synth_dir / "meta.json").read_text())
    assert meta["count"] == len(synth_samples) == 160 and meta["seed"] == 7
    assert (synth_samples.labels[:, spec.names.index("colour")] >= 0).all()
    for path in synth_samples.paths[:10]:
        w, h = load_rgb(path).size
        assert 60 <= w <= 270 and 12 <= h <= 150


def test_plate_glyphs_one_without_foot_and_stroke_weight_varies():
    from plates.synth.render import glyph_mask

    one = glyph_mask("1", 0) > 0.5
    widths = one.sum(axis=1)
    assert widths[-5:].max() <= widths[len(widths) // 2] + 2  # no foot: the bottom is as wide as the stem
    m = glyph_mask("M", 1) > 0.5
    bottom_centre = m[-m.shape[0] // 4 :, m.shape[1] * 2 // 5 : m.shape[1] * 3 // 5]
    assert not bottom_centre.any()  # the V stops above the baseline
    thin, base, bold = (float(glyph_mask("8", 0, w).sum()) for w in (-2, 0, 2))
    assert thin < base < bold


def test_rounded_glyphs_are_straight_sided_and_open_where_the_plate_letter_is():
    from plates.synth.render import glyph_mask

    def cols(mask, rows):
        return mask[int(rows[0] * mask.shape[0]) : int(rows[1] * mask.shape[0])]

    zero, c, g = (glyph_mask(ch, 0, radius=0.4) > 0.5 for ch in "0CG")
    mid = (0.4, 0.6)
    assert cols(zero, mid)[:, -2:].any(1).all()  # the 0 closes on the right at mid-height
    assert not cols(c, (0.45, 0.55))[:, -3:].any()  # the C is open there
    assert cols(g, (0.5, 0.55))[:, g.shape[1] // 2 : -3].any(1).all()  # the G's bar reaches inwards
    assert cols(g, (0.7, 0.75))[:, -3:].any(1).all()  # and closes below it
    # a straight side: the 0's left edge keeps its column over the middle half (a font's oval drifts)
    left = cols(zero, (0.3, 0.7)).argmax(1)
    assert left.max() - left.min() <= 1
    assert not np.array_equal(glyph_mask("C", 0) > 0.5, c)  # without a radius the font draws it


def test_rounded_share_redraws_only_the_round_letters_and_zero_keeps_the_seeded_stream():
    from plates.synth.render import RenderConfig, render_plate

    def plate(text, share):
        return render_plate(text, "blue", "single", np.random.default_rng(3), RenderConfig(rounded_share=share))

    assert np.array_equal(plate("皖A12345", 0.0), plate("皖A12345", 1.0))  # nothing round to redraw
    assert not np.array_equal(plate("皖AC0DGQ", 0.0), plate("皖AC0DGQ", 1.0))
    assert [j for _, j in iter_plates(40, seed=5, workers=1, render=RenderConfig())] == [
        j for _, j in iter_plates(40, seed=5, workers=1)
    ]
    with pytest.raises(ValueError, match="rounded_share"):
        RenderConfig(rounded_share=1.5)


def test_hanzi_faces_change_only_the_hanzi_and_unknown_faces_are_refused():
    from plates.synth.render import HANZI_FACES, RenderConfig, render_plate

    def plate(text, faces):
        return render_plate(text, "blue", "single", np.random.default_rng(3), RenderConfig(hanzi_faces=faces))

    black, smiley = plate("皖A12345", ("noto-black",)), plate("皖A12345", ("smiley",))
    cut = black.shape[1] * 2 // 9  # the province cell lies left of this, the letters right
    assert not np.array_equal(black[:, :cut], smiley[:, :cut])
    assert np.array_equal(black[:, cut:], smiley[:, cut:])
    assert set(HANZI_FACES) >= set(RenderConfig().hanzi_faces)
    with pytest.raises(ValueError, match="hanzi_faces"):
        RenderConfig(hanzi_faces=("no-such-face",))
    with pytest.raises(ValueError, match="hanzi_faces"):
        RenderConfig(hanzi_faces=())


def test_the_ink_cap_thins_only_hanzi_past_it_and_keeps_the_seeded_letters():
    from plates.synth.render import HANZI_FACES, MIN_WEIGHT, RenderConfig, capped_weight, ink_share, render_plate

    black = HANZI_FACES["noto-black"].file
    # a heavy 冀 closes up past the cap; the cap thins it back until it inks no more than the cap
    assert ink_share("冀", black, 2) > 0.55
    thinned = capped_weight("冀", black, 2, 0.55)
    assert MIN_WEIGHT <= thinned < 2 and ink_share("冀", black, thinned) <= 0.55
    assert capped_weight("宁", black, 1, 0.55) == 1  # a sparse glyph keeps a moderate weight
    assert capped_weight("冀", black, 2, 0.01) == MIN_WEIGHT  # never thinner than the floor

    def plate(text, cap):
        config = RenderConfig(hanzi_faces=("noto-black",), hanzi_ink_cap=cap)
        return render_plate(text, "blue", "single", np.random.default_rng(1), config)

    # seed 1 draws a heavy Hanzi weight for noto-black: 冀 changes, the letters do not
    capped, plain = plate("冀B61605", 0.55), plate("冀B61605", 1.0)
    cut = capped.shape[1] * 2 // 9
    assert not np.array_equal(capped[:, :cut], plain[:, :cut])
    assert np.array_equal(capped[:, cut:], plain[:, cut:])
    with pytest.raises(ValueError, match="hanzi_ink_cap"):
        RenderConfig(hanzi_ink_cap=0.0)


def test_keeping_counters_thins_a_closed_up_hanzi_and_keeps_a_bold_sparse_one():
    from plates.synth.render import HANZI_FACES, RenderConfig, counters, hanzi_weight, open_weight, render_plate

    black = HANZI_FACES["noto-black"].file
    # 冀 drawn by the face has gaps between its strokes; thickened twice it is a block without them
    assert counters("冀", black, 0) >= 4 and counters("冀", black, 2) < counters("冀", black, 0)
    assert open_weight("冀", black, 2) == 0
    # 京 keeps its counter at +2, so it keeps that weight (an ink cap of 0.55 would thin it)
    assert counters("京", black, 2) >= counters("京", black, 0) == 1
    assert open_weight("京", black, 2) == 2
    assert open_weight("冀", black, -1) == -1  # a plate drawn thin is left as drawn
    keep = RenderConfig(hanzi_faces=("noto-black",), hanzi_keep_counters=True)
    both = dataclasses.replace(keep, hanzi_ink_cap=0.55)
    assert hanzi_weight("京", black, 2, both) < 2 == hanzi_weight("京", black, 2, keep)
    # on a plate (seed 1: a heavy Hanzi weight) only the Hanzi changes: nothing more is drawn at random
    kept, plain = (
        render_plate("冀B61605", "blue", "single", np.random.default_rng(1), c)
        for c in (keep, RenderConfig(hanzi_faces=("noto-black",)))
    )
    cut = kept.shape[1] * 2 // 9
    assert not np.array_equal(kept[:, :cut], plain[:, :cut]) and np.array_equal(kept[:, cut:], plain[:, cut:])


def test_an_oblique_face_is_drawn_upright():
    """Smiley Sans leans 8 degrees; its ``I`` drawn for a plate must stand straight (the centre of
    its top rows over that of its bottom rows), where the font's own outline does not."""
    from PIL import Image, ImageDraw

    from plates.synth.render import HANZI_FACES, _font, glyph_mask

    def lean(mask):
        rows = mask.shape[0] // 4
        xs = np.arange(mask.shape[1])
        top, bottom = mask[:rows].sum(0), mask[-rows:].sum(0)
        return (xs @ top / top.sum() - xs @ bottom / bottom.sum()) / mask.shape[0]

    file = HANZI_FACES["smiley"].file
    face = _font(file, 160)
    left, top, right, bottom = face.getbbox("I")
    raw = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(raw).text((2 - left, 2 - top), "I", font=face, fill=255)
    assert lean(np.asarray(raw, np.float32) / 255) > 0.08  # about tan(8 degrees) * 3/4 of the height
    assert abs(lean(glyph_mask("I", file))) < 0.02


def test_every_shipped_face_holds_every_character_it_is_used_for():
    from fontTools.ttLib import TTFont

    from plates.spec import ALNUM, PROVINCES, SPECIALS
    from plates.synth.render import FONT_DIR, HANZI_FACES, LATIN_FONTS

    hanzi = tuple(face.file for face in HANZI_FACES.values())
    for faces, chars in ((hanzi, PROVINCES + SPECIALS), (LATIN_FONTS, ALNUM)):
        for face in faces:
            cmap = TTFont(FONT_DIR / face).getBestCmap()
            assert [c for c in chars if ord(c) not in cmap] == [], face


def _layout_crop(value_of, w: int, h: int, scale: float, offset: float) -> np.ndarray:
    """A dark crop with the 7 character cells of GA 36 as bright boxes, cell p at grey value_of(p),
    the plate ``scale`` times the crop's width and shifted ``offset`` px."""
    from plates.synth.render import layout_boxes

    arr = np.full((h, w, 3), 30, np.uint8)
    _, boxes, _ = layout_boxes("blue", "single", 7)
    mm = scale * w / 440
    left = w / 2 - 220 * mm + offset
    for p, (x, _, cw, _) in enumerate(boxes):
        arr[int(0.2 * h) : int(0.8 * h), int(round(left + x * mm)) : int(round(left + (x + cw) * mm))] = value_of(p)
    return arr


def test_the_layout_fit_finds_the_cells_of_crops_at_other_scales_and_offsets():
    from plates.synth.permute import fit_cells
    from plates.synth.render import layout_boxes

    _, boxes, _ = layout_boxes("blue", "single", 7)
    for w, h, scale, offset in ((94, 24, 0.9, 2.0), (136, 36, 1.1, -3.0), (200, 60, 1.0, 0.0)):
        centres, pitch, (top, bottom), score = fit_cells(_layout_crop(lambda p: 220, w, h, scale, offset))
        mm = scale * w / 440
        truth = w / 2 - 220 * mm + offset + np.array([x + cw / 2 for x, _, cw, _ in boxes]) * mm
        assert np.abs(centres - truth).max() < 0.03 * w, (w, centres, truth)
        assert abs(pitch - 57 * mm) < 0.05 * pitch and score > 0.5
        assert abs(top - 0.2 * h) <= 1 and abs(bottom - 0.8 * h) <= 1
    flat = np.full((24, 94, 3), 90, np.uint8)
    assert fit_cells(flat)[3] < 0.2  # no layout to find


def test_permuted_plates_carry_their_donors_characters_at_each_position(tmp_path, spec):
    """Crop k's cell q is grey 100 + 30 k + 3 q, so each cell of a permuted plate says which crop
    and which position it came from; its label must be that donor's character there."""
    from PIL import Image

    from plates.readers import Samples, read_any
    from plates.synth.permute import PermuteConfig, fit_cells, permute

    texts = ["皖A11111", "皖B22222", "皖C3C3C3", "苏D45678"]
    shapes = ((94, 24, 0.95, 1.0), (136, 36, 1.1, -2.0), (94, 24, 1.0, 0.0), (120, 32, 1.05, 2.0))
    paths = []
    for k, shape in enumerate(shapes):
        path = tmp_path / f"{k}.png"
        Image.fromarray(_layout_crop(lambda q, k=k: 100 + 30 * k + 3 * q, *shape)).save(path)
        paths.append(str(path))
    labels = np.stack([encode(spec, t) for t in texts])
    out = permute(Samples(paths, labels), spec, tmp_path / "perm", PermuteConfig(200, 1, match_brightness=False))
    made = read_any(out, spec)
    assert len(made) == 200
    firsts, moved = Counter(), 0
    for path, text in zip(made.paths, made.texts(spec), strict=True):
        arr = np.asarray(Image.open(path), np.float32)[..., 0]
        centres, pitch, (top, bottom), _ = fit_cells(np.asarray(Image.open(path).convert("RGB")))
        for p, c in enumerate(centres):
            value = np.median(arr[top + 2 : bottom - 2, int(c - 0.15 * pitch) : int(c + 0.15 * pitch) + 1])
            k = int((value - 100 + 5) // 30)  # JPEG-blurred by a few levels
            q = int(round((value - 100 - 30 * k) / 3))
            assert text[p] == texts[k][q], (text, p, k, q)
            assert p > 0 or q == 0, "the province came from another position"
            moved += q != p
        firsts[text[0]] += 1
    assert 0.3 < firsts["苏"] / 200 < 0.7  # the province donor is balanced: 1 苏 crop of 4, half the plates
    assert moved > 100  # half the other cells are drawn by character, from any position


def test_province_power_draws_provinces_by_how_many_crops_hold_them(tmp_path, spec):
    """Power 0 draws the provinces present uniformly, power 1 as often as the crops hold them."""
    from PIL import Image

    from plates.readers import Samples, read_any
    from plates.synth.permute import PermuteConfig, permute

    texts = ["皖A11111", "皖B22222", "皖C33333", "苏D45678"]
    paths = []
    for k in range(len(texts)):
        paths.append(str(tmp_path / f"{k}.png"))
        Image.fromarray(_layout_crop(lambda q, k=k: 100 + 30 * k + 3 * q, 94, 24, 1.0, 0.0)).save(paths[-1])
    real = Samples(paths, np.stack([encode(spec, t) for t in texts]))
    shares = {}
    for power in (0.0, 1.0):
        made = read_any(permute(real, spec, tmp_path / f"p{power}", PermuteConfig(400, 4, province_power=power)), spec)
        shares[power] = Counter(text[0] for text in made.texts(spec))["苏"] / 400
    assert 0.4 < shares[0.0] < 0.6 and 0.17 < shares[1.0] < 0.33, shares  # a half, then a quarter
    with pytest.raises(DataError, match="province power"):
        PermuteConfig(province_power=2.0)


def test_province_donors_give_province_cells_only_of_the_base_crops_colour(tmp_path, spec):
    """Donor plates (e.g. synthetic) add provinces the real crops lack, but only as province cells
    on real base crops, and from a donor of the base's colour where one exists."""
    from PIL import Image

    from plates.readers import Samples, read_any
    from plates.synth.permute import PermuteConfig, fit_cells, permute

    def crops(specs, start):
        paths, labels = [], []
        for k, (text, colour, grey) in enumerate(specs):
            path = tmp_path / f"{start + k}.png"
            Image.fromarray(_layout_crop(lambda q, grey=grey: grey(q), 94, 24, 1.0, 0.0)).save(path)
            paths.append(str(path))
            labels.append(encode(spec, text, {"colour": colour, "layout": "single"}))
        return Samples(paths, np.stack(labels))

    real = crops([("皖A11111", "blue", lambda q: 100 + 3 * q), ("苏B22222", "blue", lambda q: 130 + 3 * q)], 0)
    donors = crops([("京C33333", "blue", lambda q: 200), ("京D44444", "yellow", lambda q: 240)], 10)
    out = permute(real, spec, tmp_path / "perm", PermuteConfig(120, 2, match_brightness=False), donors)
    made = read_any(out, spec)
    provinces = Counter(text[0] for text in made.texts(spec))
    assert set(provinces) == {"皖", "苏", "京"} and provinces["京"] > 20, provinces
    for path, text in zip(made.paths, made.texts(spec), strict=True):
        arr = np.asarray(Image.open(path), np.float32)[..., 0]
        centres, pitch, (top, bottom), _ = fit_cells(np.asarray(Image.open(path).convert("RGB")))
        values = [
            np.median(arr[top + 2 : bottom - 2, int(c - 0.15 * pitch) : int(c + 0.15 * pitch) + 1]) for c in centres
        ]
        assert all(v < 190 for v in values[1:]), "a donor gave a cell other than the province"
        if text[0] == "京":
            assert abs(values[0] - 200) < 8, "the blue base took the yellow donor's province"
    assert json.loads((out / "meta.json").read_text())["province_donors"] == 2
    shared = read_any(permute(real, spec, tmp_path / "share", PermuteConfig(300, 3, donor_share=0.1), donors), spec)
    share = Counter(text[0] for text in shared.texts(spec))["京"] / 300
    assert 0.04 < share < 0.18, share  # a tenth donated; uniform over the 3 provinces would give a third
    with pytest.raises(DataError, match="donor share"):
        PermuteConfig(donor_share=1.5)


def test_cut_province_crops_start_inside_the_province_cell_and_label_it_unsure(tmp_path, spec):
    """Each crop keeps the source's rows and labels but the province (-2, even where the source's
    province was unknown), and starts between the depths' columns of the first cell."""
    from PIL import Image

    from plates.readers import Samples, read_any
    from plates.synth.cut import CutConfig, cut_column, cut_province
    from plates.synth.permute import fit_cells

    texts = ["皖A11111", "苏B22222"]
    paths = []
    for k, shape in enumerate(((136, 36, 1.0, 0.0), (120, 32, 1.05, 2.0))):
        paths.append(str(tmp_path / f"{k}.png"))
        Image.fromarray(_layout_crop(lambda q, k=k: 100 + 30 * k + 3 * q, *shape)).save(paths[-1])
    labels = np.stack([encode(spec, t) for t in texts])
    labels[1, 0] = -1  # a pseudo-label whose province was masked is a source too
    made = read_any(cut_province(Samples(paths, labels), spec, tmp_path / "cut", CutConfig(60, 1, (0.3, 0.7))), spec)
    assert len(made) == 60 and (made.labels[:, 0] == -2).all()
    widths = {}
    for k, path in enumerate(paths):
        centres, pitch, _, _ = fit_cells(np.asarray(Image.open(path).convert("RGB")))
        w = Image.open(path).width
        widths[w - cut_column(centres[0], pitch, 0.3)], widths[w - cut_column(centres[0], pitch, 0.7)] = k, k
    seen = set()
    for path, row in zip(made.paths, made.labels, strict=True):
        image = Image.open(path)
        k = int(row[1])  # letter A or B tells the source
        hi, lo = sorted(w for w, src in widths.items() if src == k)[::-1]
        assert lo <= image.width <= hi and image.height == (36, 32)[k]
        assert (row[1:] == labels[k, 1:]).all()
        seen.add(k)
    assert seen == {0, 1}
    # shallow cuts keep the province where the source knew it; deep ones are unsure
    config = CutConfig(200, 2, (0.0, 1.0), unsure_from=0.5)
    made = read_any(cut_province(Samples(paths, labels), spec, tmp_path / "half", config), spec)
    kept = made.labels[:, 0] != -2
    assert 0.2 < (made.labels[:, 0] == 0).mean() < 0.35  # 皖 kept: a quarter (half the 皖 crops' cuts)
    widths = np.array([Image.open(p).width for p in made.paths])
    src0 = made.labels[:, 1] == 0
    assert widths[src0 & kept].min() >= widths[src0 & ~kept].max()  # kept crops are the less cut ones (1 px rounding)
    with pytest.raises(DataError, match="cut depth"):
        CutConfig(depth=(0.8, 0.2))
    with pytest.raises(DataError, match="unsure"):
        CutConfig(unsure_from=1.5)
    flat = tmp_path / "flat.png"
    Image.fromarray(np.full((24, 94, 3), 90, np.uint8)).save(flat)
    with pytest.raises(DataError, match="no single-row 7-character crop"):
        cut_province(Samples([str(flat)], labels[:1]), spec, tmp_path / "none", CutConfig(5))
    assert not (tmp_path / "none").exists()
