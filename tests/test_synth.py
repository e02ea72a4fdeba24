import hashlib
from collections import Counter

import numpy as np

from plates.codec import encode
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


def test_every_shipped_face_holds_every_character_it_is_used_for():
    from fontTools.ttLib import TTFont

    from plates.spec import ALNUM, PROVINCES, SPECIALS
    from plates.synth.render import FONT_DIR, HANZI_FONTS, LATIN_FONTS

    for faces, chars in ((HANZI_FONTS, PROVINCES + SPECIALS), (LATIN_FONTS, ALNUM)):
        for face in faces:
            cmap = TTFont(FONT_DIR / face).getBestCmap()
            assert [c for c in chars if ord(c) not in cmap] == [], face
