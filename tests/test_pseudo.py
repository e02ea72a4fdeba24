"""Pseudo-labelling: confident heads keep their label, unsure ones are masked, non-plates rejected."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from plates.bundle import ModelInfo
from plates.codec import encode
from plates.errors import DataError
from plates.readers import read_any


def _crops(tmp_path, n):
    folder = tmp_path / "unlabelled"
    folder.mkdir()
    for i in range(n):
        Image.new("RGB", (60, 16), (10 * i, 40, 200)).save(folder / f"{i:03d}.png")
    (folder / "notes.txt").write_text("not an image")
    (folder / "torn.png").write_bytes(b"\x89PNG but cut off")
    return folder


def _probs(spec, truth, sure):
    """One-hot-ish probabilities: 0.95 on the true class where ``sure``, spread out elsewhere."""
    out = {}
    for j, head in enumerate(spec.heads):
        k = len(head.classes)
        p = np.full((len(truth), k), 0.0, np.float32)
        for i, row in enumerate(truth):
            if sure[i, j]:
                p[i] = 0.05 / (k - 1)
                p[i, row[j]] = 0.95
            else:
                p[i] = 0.5 / (k - 1)
                p[i, row[j]] = 0.5
        out[head.name] = p
    return out


def test_pseudo_labels_mask_unsure_heads_and_reject_unreadable_crops(tmp_path, spec, monkeypatch):
    import plates.training
    from teacher.cli import main
    from teacher.pseudo import PseudoLabelConfig, list_images, pseudo_label, write_pseudo_labels

    folder = _crops(tmp_path, 4)
    paths = list_images(folder)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["000.png", "001.png", "002.png", "003.png", "torn.png"]
    truth = np.stack(
        [
            encode(spec, t, {"colour": "blue", "layout": "single"})
            for t in ("浙A12345", "沪B6789C", "苏E0000D", "京Q11111")
        ]
    )
    sure = np.ones(truth.shape, bool)
    sure[1, 0] = False  # unsure province only: kept, province masked
    sure[2, :5] = False  # five unsure characters: a non-plate, rejected
    probs = _probs(spec, truth, sure)
    monkeypatch.setattr(plates.training, "predict_probs", lambda model, images, batch_size=256: probs)
    info = ModelInfo(spec, 16, 48)

    result = pseudo_label([(None, info)], paths, PseudoLabelConfig(threshold=0.9))
    assert [p.rsplit("/", 1)[1] for p in result.samples.paths] == ["000.png", "001.png", "003.png"]
    assert result.rejected[0].endswith("002.png")
    assert (result.samples.labels[0] == truth[0]).all()
    assert result.samples.labels[1, 0] == -1 and (result.samples.labels[1, 1:] == truth[1, 1:]).all()
    assert result.stats["unreadable"] == 1  # skipped and counted, the rest still labelled
    assert result.stats["fully_labelled"] == 2 and result.stats["first_char_counts"] == {"浙": 1, "京": 1}
    counts = result.stats["class_counts"]
    assert counts["char1"] == {"浙": 1, "京": 1} and counts["char2"] == {"A": 1, "B": 1, "Q": 1}
    assert counts["char7"] == {"5": 1, "C": 1, "1": 1}

    loose = pseudo_label([(None, info)], paths, PseudoLabelConfig(threshold=0.9, min_char_heads=3))
    assert len(loose.samples) == 4  # 002 still has 3 sure characters

    out = write_pseudo_labels(tmp_path / "pl" / "pseudo.txt", result, {"model": "m"})
    back = read_any(out, spec)  # an ordinary training source
    assert [os.path.realpath(p) for p in back.paths] == [os.path.realpath(p) for p in result.samples.paths]
    assert (back.labels == result.samples.labels).all()
    assert json.loads(out.with_suffix(".json").read_text())["kept"] == 3

    strict = pseudo_label([(None, info)], paths, PseudoLabelConfig(threshold=0.9, head_thresholds=(("char1", 0.99),)))
    assert len(strict.samples) == 3 and (strict.samples.labels[:, 0] == -1).all()  # 0.95 < 0.99: province masked
    assert (strict.samples.labels[:, 1] >= 0).all()  # the other heads keep the global threshold
    with pytest.raises(DataError, match="no head"):
        pseudo_label([(None, info)], paths, PseudoLabelConfig(head_thresholds=(("province", 0.99),)))
    assert main(["pseudo-label", "m", "--unlabelled", str(folder), "--out", "x.txt", "--head-threshold", "c=2"]) == 2

    nothing = pseudo_label([(None, info)], paths, PseudoLabelConfig(threshold=0.99))
    with pytest.raises(DataError, match="lower the threshold"):
        write_pseudo_labels(tmp_path / "none.txt", nothing, {})
    with pytest.raises(DataError, match="not a folder"):
        list_images(tmp_path / "missing")
    with pytest.raises(SystemExit) as exit_:
        main(["pseudo-label", "m", "--unlabelled", str(folder), "--out", "x.txt", "--threshold", "1.5"])
    assert exit_.value.code == 2


def test_a_masked_class_is_never_kept_as_a_label_and_the_crop_stays(tmp_path, spec, monkeypatch):
    """An audit found the labeller's 苏 mostly wrong: crops read 苏 keep their other heads,
    their province is masked; 浙 is still labelled. Unknown heads or classes are refused."""
    import plates.training
    from teacher.cli import main
    from teacher.pseudo import PseudoLabelConfig, list_images, pseudo_label

    folder = _crops(tmp_path, 3)
    truth = np.stack(
        [encode(spec, t, {"colour": "blue", "layout": "single"}) for t in ("苏A12345", "浙A6789C", "苏E0000D")]
    )
    probs = _probs(spec, truth, np.ones(truth.shape, bool))
    monkeypatch.setattr(plates.training, "predict_probs", lambda model, images, batch_size=256: probs)
    readers, paths = [(None, ModelInfo(spec, 16, 48))], list_images(folder)
    result = pseudo_label(readers, paths, PseudoLabelConfig(masked_classes=(("char1", "苏"),)))
    labels = result.samples.labels
    assert len(result.samples) == 3 and labels[:, 0].tolist() == [-1, truth[1, 0], -1]
    assert (labels[:, 1:] == truth[:, 1:]).all()  # the other heads are untouched
    assert result.stats["masked_labels"] == 2 and result.stats["class_counts"]["char1"] == {"浙": 1}
    for bad, message in ((("province", "苏"), "no head"), (("char1", "X"), "not a class of head char1")):
        with pytest.raises(DataError, match=message):
            pseudo_label(readers, paths, PseudoLabelConfig(masked_classes=(bad,)))
    with pytest.raises(SystemExit) as exit_:
        main(["pseudo-label", "m", "--unlabelled", str(folder), "--out", "x.txt", "--mask-class", "char1"])
    assert exit_.value.code == 2


def test_a_confident_read_of_a_crop_without_the_plate_colour_is_rejected(tmp_path, spec, monkeypatch):
    """A grille read as a blue plate with sure characters (as a model taught by earlier rounds'
    labels does) is rejected by its pixels; a dark blue plate, a white plate and a crop whose
    colour is unsure are not checked away."""
    import plates.training
    from teacher.pseudo import PseudoLabelConfig, list_images, pseudo_label

    folder = tmp_path / "crops"
    folder.mkdir()
    grille = np.tile(np.array([40, 200], np.uint8).repeat(3)[None, :, None], (16, 10, 3))[:, :60]
    Image.fromarray(grille).save(folder / "0-grille.png")
    Image.new("RGB", (60, 16), (25, 35, 70)).save(folder / "1-dark-blue.png")
    Image.new("RGB", (60, 16), (200, 200, 200)).save(folder / "2-white.png")
    Image.fromarray(grille).save(folder / "3-grille-colour-unsure.png")
    colours = ("blue", "blue", "white", "blue")
    truth = np.stack([encode(spec, "浙A11111", {"colour": c, "layout": "single"}) for c in colours])
    sure = np.ones(truth.shape, bool)
    sure[3, spec.names.index("colour")] = False
    probs = _probs(spec, truth, sure)
    monkeypatch.setattr(plates.training, "predict_probs", lambda model, images, batch_size=256: probs)
    readers = [(None, ModelInfo(spec, 16, 48))]
    result = pseudo_label(readers, list_images(folder), PseudoLabelConfig())
    kept = [p.rsplit("/", 1)[1] for p in result.samples.paths]
    assert kept == ["1-dark-blue.png", "2-white.png", "3-grille-colour-unsure.png"], kept
    assert result.stats["rejected_off_colour"] == 1 and result.rejected[0].endswith("0-grille.png")
    unchecked = pseudo_label(readers, list_images(folder), PseudoLabelConfig(min_colour_share=0))
    assert len(unchecked.samples) == 4 and unchecked.stats["rejected_off_colour"] == 0
    with pytest.raises(ValueError, match="min_colour_share"):
        PseudoLabelConfig(min_colour_share=1.0)


def test_several_models_label_with_their_mean_probabilities(tmp_path, spec, monkeypatch):
    """A second opinion: where two readers disagree, the mean falls below the threshold and the
    head stays masked; where both are sure of the same class it is kept. Readers at different
    input sizes each read the crops at their own size; readers of other heads are refused."""
    import dataclasses

    import plates.training
    from teacher.pseudo import PseudoLabelConfig, list_images, pseudo_label

    paths = list_images(_crops(tmp_path, 2))
    truth = np.stack([encode(spec, t, {"colour": "blue", "layout": "single"}) for t in ("浙A12345", "沪B6789C")])
    other = truth.copy()
    other[0, 0] = (truth[0, 0] + 1) % len(spec.heads[0].classes)  # the second reader reads another province
    sure = np.ones(truth.shape, bool)
    by_model = {"a": _probs(spec, truth, sure), "b": _probs(spec, other, sure)}
    sizes = []

    def fake(model, images, batch_size=256):
        sizes.append(images.shape[1:3])
        return by_model[model]

    monkeypatch.setattr(plates.training, "predict_probs", fake)
    readers = [("a", ModelInfo(spec, 16, 48)), ("b", ModelInfo(spec, 24, 64))]
    result = pseudo_label(readers, paths, PseudoLabelConfig(threshold=0.9))
    assert sizes == [(16, 48), (24, 64)]
    assert result.samples.labels[0, 0] == -1  # 0.475 each: masked
    assert (result.samples.labels[0, 1:] == truth[0, 1:]).all() and (result.samples.labels[1] == truth[1]).all()
    alone = pseudo_label(readers[:1], paths, PseudoLabelConfig(threshold=0.9))
    assert alone.samples.labels[0, 0] == truth[0, 0]
    fewer = dataclasses.replace(spec, heads=spec.heads[:-1])
    with pytest.raises(DataError, match="different heads"):
        pseudo_label([readers[0], ("b", ModelInfo(fewer, 16, 48))], paths)
