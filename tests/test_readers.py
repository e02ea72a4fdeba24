import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from plates.checker import check_label_file
from plates.errors import DataError, LabelError
from plates.images import load_crop
from plates.readers import parse_ccpd_name, read_any, read_ccpd, read_folder, read_label_file, read_sources


def _img(path, colour=(20, 60, 190), size=(94, 24)):
    Image.new("RGB", size, colour).save(path)
    return path


def test_label_file_reader(tmp_path, spec):
    _img(tmp_path / "a.jpg")
    (tmp_path / "labels.txt").write_text("# comment\na.jpg 0 0 4 20 6 6 4 0 0 0\n\n", encoding="utf-8")
    s = read_label_file(tmp_path / "labels.txt", spec)
    assert len(s) == 1 and s.texts(spec) == ["皖A4L664"]
    # -2: the crop cuts the province off (a uniform target); -1: unknown
    (tmp_path / "cut.txt").write_text("a.jpg -2 0 4 20 6 6 4 0 -1 -1\n", encoding="utf-8")
    assert read_label_file(tmp_path / "cut.txt", spec).labels[0, :2].tolist() == [-2, 0]


@pytest.mark.parametrize(
    "line,message",
    [
        ("a.jpg 0 0 4", "found 3 labels"),
        ("a.jpg 0 0 4 20 6 6 4 0 x 0", "integers"),
        ("a.jpg 99 0 4 20 6 6 4 0 0 0", "out of range for head 'char1'"),
        ("a.jpg -3 0 4 20 6 6 4 0 0 0", "out of range for head 'char1'"),
    ],
)
def test_malformed_label_file_names_file_and_line(tmp_path, spec, line, message):
    (tmp_path / "labels.txt").write_text("a.jpg 0 0 4 20 6 6 4 0 0 0\n" + line + "\n", encoding="utf-8")
    with pytest.raises(LabelError, match=rf"labels.txt:2: .*{message}"):
        read_label_file(tmp_path / "labels.txt", spec)


def test_folder_reader(tmp_path, spec):
    _img(tmp_path / "皖A12345.jpg")
    _img(tmp_path / "皖A12345_2.jpg")
    _img(tmp_path / "沪AD12345.png")
    (tmp_path / "notes.txt").write_text("ignored")
    s = read_folder(tmp_path, spec)
    assert sorted(s.texts(spec)) == ["沪AD12345", "皖A12345", "皖A12345"]
    _img(tmp_path / "bad-name.jpg")
    with pytest.raises(LabelError, match="bad-name.jpg"):
        read_folder(tmp_path, spec, strict=True)
    assert len(read_folder(tmp_path, spec, strict=False)) == 3  # skipped, logged


def test_real_dev_folder_reads(spec):
    from pathlib import Path

    real = Path(__file__).resolve().parents[2] / "shared/data/plates-real-dev"
    if not real.is_dir():
        pytest.skip("shared real dev set not present")
    s = read_any(real, spec)
    assert len(s) == 1000 and all(len(t) == 7 for t in s.texts(spec))


CCPD = "025-95_113-154&383_386&473-386&473_177&454_154&383_363&402-0_0_22_27_27_33_16-37-15.jpg"


def test_ccpd_name_parsing():
    text, quad = parse_ccpd_name(CCPD)
    assert text == "皖AY339S"
    np.testing.assert_allclose(quad, [[154, 383], [363, 402], [386, 473], [177, 454]])  # TL TR BR BL
    with pytest.raises(LabelError, match="not a CCPD"):
        parse_ccpd_name("皖A12345.jpg")


def test_ccpd_reader_rectifies_the_plate(tmp_path, spec):
    # a 500x500 grey image with a red quadrilateral where the name says the plate is
    from PIL import ImageDraw

    im = Image.new("RGB", (500, 500), (128, 128, 128))
    _, quad = parse_ccpd_name(CCPD)
    ImageDraw.Draw(im).polygon([tuple(p) for p in quad], fill=(255, 0, 0))
    (tmp_path / "sub").mkdir()
    im.save(tmp_path / "sub" / CCPD)
    s = read_ccpd(tmp_path, spec)
    assert s.texts(spec) == ["皖AY339S"] and s.quads.shape == (1, 4, 2)
    crop = load_crop(s.paths[0], (94, 24), s.quads[0])
    assert crop.shape == (24, 94, 3)
    assert crop[4:-4, 8:-8, 0].mean() > 240 and crop[4:-4, 8:-8, 1].mean() < 15  # all plate, no background
    from plates.pipeline import make_dataset

    images, labels = next(iter(make_dataset(s, (24, 94), 1)))
    assert images.shape == (1, 24, 94, 3) and float(images[0, 12, 47, 0]) > 240


def test_read_sources_repeat_and_errors(tmp_path, spec, synth_dir):
    s = read_sources([f"{synth_dir}*3"], spec)
    assert len(s) == 3 * 160
    with pytest.raises(DataError, match="repeat count"):
        read_sources([f"{synth_dir}*x"], spec)
    with pytest.raises(DataError, match="no such file"):
        read_sources([str(tmp_path / "missing")], spec)


def test_checker_reports_every_problem_without_crashing(tmp_path, spec):
    _img(tmp_path / "a.jpg")
    _img(tmp_path / "b.jpg")  # same bytes as a.jpg
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    rows = [
        "a.jpg 0 0 4 20 6 6 4 0 -1 -1",
        "b.jpg 0 0 4 20 6 6 4 0 -1 -1",
        "a.jpg 0 0 4 20 6 6 4 0 -1 -1",
        "broken.jpg 0 0 4 20 6 6 4 0 -1 -1",
        "missing.jpg 0 0 4 20 6 6 4 0 -1 -1",
        "a.jpg 0 0 4 77 6 6 4 0 -1 -1",
        "a.jpg 0 -1 4 20 6 6 4 0 -1 -1",
        "a.jpg 0 0 4",
        "c.jpg -2 0 4 20 6 6 4 0 -1 -1",  # the province cut off (unsure): not a missing position
    ]
    _img(tmp_path / "c.jpg", colour=(10, 200, 30))
    (tmp_path / "labels.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    n, problems = check_label_file(tmp_path / "labels.txt", spec)
    kinds = [(p.line, p.kind) for p in problems]
    assert (2, "duplicate") in kinds  # same bytes as a.jpg
    assert (3, "duplicate") in kinds  # same path twice
    assert (4, "unreadable") in kinds and (5, "unreadable") in kinds
    assert (6, "malformed") in kinds  # 77 is not a class of char4
    assert (7, "length") in kinds  # mandatory position missing
    assert (8, "malformed") in kinds
    assert not [k for k in kinds if k[0] == 9]
    assert n == 7


def test_training_order_mixes_concatenated_sources(synth_samples):
    """Sources arrive concatenated; the second source must reach the first batch in proportion
    (it used to come in one burst at the end of every pass)."""
    import plates.pipeline as pipeline
    from plates.readers import Samples

    first, second = synth_samples.subset(range(80)), synth_samples.subset(range(80, 160))
    ds = pipeline.make_dataset(
        Samples.concat([first, second]), (16, 48), 40, training=True, augment=pipeline.Augment.off()
    )
    _, labels = next(iter(ds))
    from_second = {tuple(row) for row in second.labels.tolist()}
    n = sum(tuple(row) in from_second for row in labels.numpy().tolist())
    assert 10 <= n <= 30, f"{n} of 40 images in the first batch come from the second source"


def test_every_reader_decodes_16_bit_and_alpha_images_alike(tmp_path):
    """One conversion for every path: a 16-bit grayscale PNG is not read as white anywhere."""
    from deploy.predictor import to_rgb as predictor_to_rgb
    from plates.images import load_rgb, to_rgb

    ramp = (np.arange(96 * 24, dtype=np.uint32).reshape(24, 96) * 28).astype(np.uint16)  # 0 .. ~64.5k
    Image.fromarray(ramp).save(tmp_path / "wide.png")
    with Image.open(tmp_path / "wide.png") as im:
        assert im.mode.startswith("I")
    wide = np.asarray(load_rgb(tmp_path / "wide.png"))
    assert wide.shape == (24, 96, 3) and wide.min() == 0 and 240 < wide.max() <= 255 and 100 < wide.mean() < 150
    rgba = Image.new("RGBA", (20, 10), (10, 200, 30, 0))
    modes = [
        Image.open(tmp_path / "wide.png"),
        rgba,
        rgba.convert("LA"),
        Image.new("P", (4, 4), 3),
        Image.new("F", (4, 4), 1e6),
    ]
    for im in modes:
        assert np.array_equal(np.asarray(to_rgb(im)), np.asarray(predictor_to_rgb(im))), im.mode
    assert np.asarray(to_rgb(rgba))[0, 0].tolist() == [10, 200, 30]  # alpha dropped, colours kept


def test_decoding_names_a_bad_image_or_skips_it_when_asked(tmp_path, spec, synth_samples):
    from plates.pipeline import decode_all, make_dataset
    from plates.readers import Samples

    (tmp_path / "torn.jpg").write_bytes(b"\xff\xd8\xff\xe0 torn")
    bad = Samples([str(tmp_path / "torn.jpg"), str(tmp_path / "gone.png")], synth_samples.labels[:2])
    mixed = Samples.concat([synth_samples.subset(range(6)), bad, synth_samples.subset(range(6))])  # repeats too
    with pytest.raises(DataError, match=r"torn\.jpg: not a readable image.*\(and 1 more of 8\).*--skip-bad-images"):
        make_dataset(mixed, (16, 48), 4)
    images, kept = decode_all(mixed, (16, 48), skip_bad=True)
    assert len(images) == 12 and kept.tolist() == [*range(6), *range(8, 14)]
    assert np.array_equal(images[:6], images[6:])  # a repeated file is the same pixels


def test_ccpd_corners_that_enclose_nothing_or_lie_outside_the_image_are_named(tmp_path, spec):
    from plates.readers import read_ccpd

    flat = CCPD.replace("386&473_177&454_154&383_363&402", "100&100_100&100_100&100_100&100")
    with pytest.raises(LabelError, match="enclose no area"):
        parse_ccpd_name(flat)
    far = CCPD.replace("386&473_177&454_154&383_363&402", "1386&1473_1177&1454_1154&1383_1363&1402")
    Image.new("RGB", (500, 500), (128, 128, 128)).save(tmp_path / far)
    Image.new("RGB", (500, 500), (128, 128, 128)).save(tmp_path / flat)
    s = read_ccpd(tmp_path, spec)  # the flat one is skipped with a warning, the far one read
    assert len(s) == 1
    with pytest.raises(DataError, match=r"lie outside the 500x500 image"):
        load_crop(s.paths[0], (94, 24), s.quads[0])


def test_check_reads_a_flat_ccpd_folder_and_names_corners_outside_the_image(tmp_path, spec):
    from plates.checker import check_source

    far = CCPD.replace("386&473_177&454_154&383_363&402", "1386&1473_1177&1454_1154&1383_1363&1402")
    for grey, name in ((100, CCPD), (150, far)):
        Image.new("RGB", (500, 500), (grey, grey, grey)).save(tmp_path / name)
    n, problems = check_source(str(tmp_path), spec)
    assert n == 2 and [(p.kind, Path(p.path).name) for p in problems] == [("unreadable", far)]
    assert "outside the 500x500 image" in problems[0].message


def test_zoom_out_shows_the_plate_smaller_with_replicated_edges_and_never_black_bars():
    """A white plate on a grey crop: looser boxes show it smaller; the border they add repeats
    the crop's edge (grey), never a black bar, also where the old box jitter left the image."""
    from plates.keras import tf
    from plates.pipeline import Augment, augment_image

    image = np.full((32, 96, 3), 120.0, np.float32)
    image[8:24, 24:72] = 250.0  # the plate: a quarter of the crop
    geometric = dict(brightness=0.0, contrast=(1.0, 1.0), saturation=(1.0, 1.0), hue=0.0, noise=0.0, grayscale=0.0)
    tf.random.set_seed(0)

    def plate_share(aug: Augment) -> float:
        outs = np.stack([augment_image(tf.constant(image), aug).numpy() for _ in range(24)])
        assert outs.min() > 110, "a box outside the crop was filled with black"
        return float(np.mean(outs > 185))

    tight = plate_share(Augment(shift=0.04, scale=0.06, **geometric))
    loose = plate_share(Augment(shift=0.04, scale=0.06, zoom_out=0.2, **geometric))
    assert 0.2 < tight < 0.3  # about the quarter it is
    assert loose < 0.8 * tight  # shown smaller: the box took in up to 40% more crop per axis
    assert loose > 0.25 / (1 + 0.06 + 0.4) ** 2 - 0.01  # never smaller than the loosest box allows


def test_rotate_and_shear_tilt_the_plate_with_replicated_edges_and_zoom_in_cuts_its_ends():
    """A white bar across a grey crop: a tilt or a vertical shear moves its left end up and its
    right end down (or back), never fills a corner with black; zoom-in shows the bar larger."""
    from plates.keras import tf
    from plates.pipeline import Augment, augment_image

    image = np.full((32, 128, 3), 120.0, np.float32)
    image[14:18, 16:112] = 250.0
    geometric = dict(
        shift=0.0, scale=0.0, brightness=0.0, contrast=(1.0, 1.0), saturation=(1.0, 1.0), hue=0.0, noise=0.0
    )
    tf.random.set_seed(0)

    def slopes(aug: Augment) -> np.ndarray:
        out = []
        for _ in range(16):
            o = augment_image(tf.constant(image), dataclasses.replace(aug, grayscale=0.0)).numpy()[..., 0]
            assert o.min() > 110, "a corner was filled with black"
            rows = np.arange(32)[:, None]
            left, right = o[:, 24:40], o[:, 88:104]
            out.append(
                ((rows * (right > 185)).sum() / (right > 185).sum())
                - ((rows * (left > 185)).sum() / (left > 185).sum())
            )
        return np.abs(np.array(out))

    assert slopes(Augment(**geometric)).max() < 0.01  # straight stays straight
    for aug in (Augment(rotate=8.0, **geometric), Augment(shear=8.0, **geometric)):
        tilts = slopes(aug)
        assert tilts.max() > 2.0 and tilts.max() < 64 * np.tan(np.radians(8.0)) + 1
    wide = [
        float(np.mean(augment_image(tf.constant(image), Augment(zoom_in=0.1, **geometric)).numpy() > 185))
        for _ in range(16)
    ]
    assert max(wide) > 1.1 * np.mean(image > 185)


def test_cut_ends_cuts_each_end_on_its_own_and_keeps_the_height():
    """A white bar across a grey crop: cut ends show it wider, each end moved by its own draw
    (so sometimes one end far more than the other), and never taller: only the width is cut."""
    from plates.keras import tf
    from plates.pipeline import Augment, augment_image

    image = np.full((32, 128, 3), 120.0, np.float32)
    image[14:18, 16:112] = 250.0
    plain = Augment.off()
    tf.random.set_seed(0)
    starts, ends = [], []
    for _ in range(24):
        bar = augment_image(tf.constant(image), dataclasses.replace(plain, cut_ends=0.1)).numpy()[..., 0] > 185
        rows, cols = np.flatnonzero(bar.any(1)), np.flatnonzero(bar.any(0))
        assert rows.min() >= 13 and rows.max() <= 18, "the height was cut too"
        starts.append(16 - cols.min())
        ends.append(cols.max() - 111)
    starts_, ends_ = np.array(starts), np.array(ends)
    assert starts_.min() >= -1 and ends_.min() >= -1  # never looser (a pixel of interpolation aside)
    assert starts_.max() > 6 and ends_.max() > 6  # up to 0.1 of 128 px at either end
    assert np.abs(starts_ - ends_).max() > 4  # the ends move on their own
    # within the bound: a 12.8 px cut puts the bar's end at (16 - 12.8) * 128 / (128 - cuts) >= 3.5
    assert starts_.max() <= 13 and ends_.max() <= 13


def test_perspective_shows_one_end_of_the_plate_shorter_within_its_bound():
    """A tall white bar: in perspective one end is shown shorter than the other, never by more
    than the bound, and either end may be the short one; no corner is filled with black."""
    from plates.keras import tf
    from plates.pipeline import Augment, augment_image

    image = np.full((32, 128, 3), 120.0, np.float32)
    image[4:28, 8:120] = 250.0
    aug = dataclasses.replace(Augment.off(), perspective=0.3)
    tf.random.set_seed(1)
    ratios = []
    for _ in range(24):
        o = augment_image(tf.constant(image), aug).numpy()[..., 0]
        assert o.min() > 110, "a corner was filled with black"
        left, right = (o[:, 28:36] > 185).sum() / 8, (o[:, 92:100] > 185).sum() / 8
        assert min(left, right) >= 0.7 * 24 - 1 and max(left, right) <= 24 / 0.7 + 1
        ratios.append(left / right)
    assert min(ratios) < 0.9 and max(ratios) > 1 / 0.9  # both ends were the short one


def test_blur_softens_a_sharp_crop_and_keeps_its_size():
    from plates.keras import tf
    from plates.pipeline import Augment, augment_image

    stripes = np.zeros((32, 128, 3), np.float32)
    stripes[:, ::4] = stripes[:, 1::4] = 255.0  # 2-pixel stripes: gone once half the resolution is lost
    off = dataclasses.replace(Augment.off(), blur=0.5)
    tf.random.set_seed(0)
    outs = [augment_image(tf.constant(stripes), off).numpy() for _ in range(12)]
    assert all(o.shape == stripes.shape for o in outs)
    contrast = [float(np.abs(np.diff(o[..., 0], axis=1)).mean()) for o in outs]
    sharp = float(np.abs(np.diff(stripes[..., 0], axis=1)).mean())
    assert min(contrast) < 0.5 * sharp and max(contrast) <= sharp + 1e-3


def test_augment_off_turns_every_augmentation_off():
    import dataclasses

    from plates.pipeline import Augment

    off = Augment.off()
    for field in dataclasses.fields(Augment):
        value = getattr(off, field.name)
        assert value == ((1.0, 1.0) if isinstance(field.default, tuple) else 0.0), field.name
