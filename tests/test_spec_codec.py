import numpy as np
import pytest

from plates.codec import decode, encode, labels_to_text
from plates.errors import LabelError, SpecError
from plates.spec import Head, PlateSpec, default_spec

# (text, colour, layout): one per plate type the generator and readers handle
PLATES = [
    ("皖A12345", "blue", "single"),
    ("京PL3N67", "blue", "single"),
    ("粤B1234学", "yellow", "single"),
    ("鲁C5678挂", "yellow", "double"),
    ("沪AD12345", "green", "single"),
    ("浙B12345F", "green", "single"),
    ("京A1234警", "white", "single"),
    ("粤Z1234港", "black", "single"),
    ("粤Z5678澳", "black", "single"),
    ("沪A1234领", "black", "single"),
]


@pytest.mark.parametrize("text,colour,layout", PLATES)
def test_text_labels_round_trip(text, colour, layout):
    spec = default_spec()
    labels = encode(spec, text, {"colour": colour, "layout": layout})
    assert labels.shape == (len(spec.heads),) and (labels >= 0).all()
    assert labels_to_text(spec, labels) == text
    probs = {h.name: np.eye(len(h.classes))[labels[i]][None] for i, h in enumerate(spec.heads)}
    reading = decode(spec, probs)[0]
    assert reading.text == text and reading.confidence == 1.0
    assert reading.attributes == {"colour": colour, "layout": layout}


def test_seven_char_plate_marks_eighth_position_empty():
    spec = default_spec()
    labels = encode(spec, "皖A12345")
    assert spec.head("char8").classes[labels[spec.names.index("char8")]] == ""
    assert labels[spec.names.index("colour")] == -1  # unknown attribute is masked, not guessed


@pytest.mark.parametrize(
    "text,message",
    [("皖A1234", "has 6 characters"), ("皖I12345", "position 2"), ("XA12345", "position 1"), ("皖A12345678", "has 10")],
)
def test_bad_plates_name_the_problem(text, message):
    with pytest.raises(LabelError, match=message):
        encode(default_spec(), text)


def test_unknown_attribute_value():
    with pytest.raises(LabelError, match="colour 'pink'"):
        encode(default_spec(), "皖A12345", {"colour": "pink"})


def test_confidence_is_min_over_text_heads():
    spec = default_spec()
    labels = encode(spec, "皖A12345", {"colour": "blue", "layout": "single"})
    probs = {h.name: np.eye(len(h.classes))[labels[i]][None] * 0.9 for i, h in enumerate(spec.heads)}
    probs["char3"] = probs["char3"] * (0.6 / 0.9)
    probs["colour"] = probs["colour"] * (0.1 / 0.9)  # attributes do not lower plate confidence
    assert decode(spec, probs)[0].confidence == pytest.approx(0.6)


def test_spec_round_trip_and_validation():
    spec = default_spec()
    assert PlateSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError, match="follows an optional"):
        PlateSpec((Head("a", ("", "x")), Head("b", ("x", "y"))))
    with pytest.raises(SpecError, match="identifier"):
        Head("bad name", ("x", "y"))
