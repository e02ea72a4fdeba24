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


def test_permuted_plates_carry_their_donors_characters_at_each_position(tmp_path, spec):
    from PIL import Image

    from plates.readers import Samples, read_any
    from plates.synth.permute import PermuteConfig, permute, slab_edges

    w, h = 94, 24
    edges = slab_edges(w)
    assert edges[0][0] == 0 and edges[-1][1] == w and len(edges) == 7
    assert all(a[1] == b[0] for a, b in zip(edges[:-1], edges[1:], strict=True))
    texts = ["皖A11111", "皖B22222", "皖C33333", "苏D44444"]
    paths = []
    for k, _ in enumerate(texts):  # crop k: slab p filled with value 10 * (k + 1) + p
        arr = np.zeros((h, w, 3), np.uint8)
        for p, (x0, x1) in enumerate(edges):
            arr[:, x0:x1] = 10 * (k + 1) + p
        path = tmp_path / f"{k}.png"
        Image.fromarray(arr).save(path)
        paths.append(str(path))
    labels = np.stack([encode(spec, t) for t in texts])
    out = permute(Samples(paths, labels), spec, tmp_path / "perm", PermuteConfig(200, 1, match_brightness=False))
    made = read_any(out, spec)
    assert len(made) == 200
    firsts = Counter()
    for path, text in zip(made.paths, made.texts(spec), strict=True):
        arr = np.asarray(Image.open(path), np.float32)
        for p, (x0, x1) in enumerate(edges):
            value = np.median(arr[4:-4, x0 + 1 : x1 - 1, 0])
            donor = int(round((value - p) / 10)) - 1  # which crop this slab came from (JPEG-blurred)
            assert text[p] == texts[donor][p], (text, p, donor)
        firsts[text[0]] += 1
    assert 0.3 < firsts["苏"] / 200 < 0.7  # the province donor is balanced: 1 苏 crop of 4, half the plates
