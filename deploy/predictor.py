"""Dependency-light predictor for exported bundles: numpy + pillow + one runtime.

Runtimes, in order of preference: ``ai-edge-litert`` (LiteRT), ``tflite-runtime`` (old
32-bit devices, numpy<2), ``onnxruntime`` for ``.onnx``. TensorFlow is never imported, so
this file can be copied alone to a Raspberry Pi next to a bundle folder
(``model.tflite``/``model.onnx`` + ``labels.json``)::

    python predictor.py BUNDLE image1.jpg image2.jpg

TFLite outputs are read through the signature runner *by head name*: the raw output tensor
order of a converted model is not the Keras order.

``--views 3`` reads each crop three times (as given, 5% tighter and 5% looser on every side) and
averages the probabilities: a reader whose crops come from another detector than the training
crops' is less bound to where that detector puts the plate's edges, for three runs of the model.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

FORMAT = "plates-labels/1"

#: the crops read per image for ``views``: (left, top, right, bottom) share of the side cut off,
#: negative = that much border added by repeating the edge pixels. Symmetric on purpose: an
#: asymmetric set would encode one detector's habits.
VIEWS: dict[int, tuple[tuple[float, float, float, float], ...]] = {
    1: ((0.0, 0.0, 0.0, 0.0),),
    3: ((0.0, 0.0, 0.0, 0.0), (0.05, 0.05, 0.05, 0.05), (-0.05, -0.05, -0.05, -0.05)),
}


if TYPE_CHECKING:
    from plates.errors import ModelError as _BundleBase
else:
    try:  # inside the toolkit a bundle problem is a ModelError, so every CLI reports it in one line
        from plates.errors import ModelError as _BundleBase
    except ImportError:  # this file copied alone to a device
        _BundleBase = Exception


class BundleError(_BundleBase):
    """A bundle folder or model file that cannot be used."""


def find_model(bundle: str | os.PathLike) -> Path:
    bundle = Path(bundle)
    if bundle.is_file():
        return bundle
    models = sorted(list(bundle.glob("*.tflite")) + list(bundle.glob("*.onnx")))
    if len(models) != 1:
        raise BundleError(f"{bundle}: expected exactly one .tflite or .onnx model, found {[m.name for m in models]}")
    return models[0]


def read_labels(folder: Path) -> dict[str, Any]:
    path = folder / "labels.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path}: missing (every bundle carries its labels.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: not valid JSON ({exc})") from None
    if info.get("format") != FORMAT:
        raise BundleError(f"{path}: format {info.get('format')!r}, expected {FORMAT!r}")
    return info


def tflite_interpreter(path: str | os.PathLike, threads: int):
    """LiteRT interpreter (tflite-runtime on old devices), with an error naming the file; shared
    by the predictor and ``compress.latency``."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise BundleError("no TFLite runtime: pip install ai-edge-litert (or tflite-runtime on 32-bit)") from None
    try:
        return Interpreter(model_path=str(path), num_threads=threads)
    except (ValueError, RuntimeError) as exc:
        raise BundleError(f"{path}: not a valid TFLite model ({str(exc).splitlines()[0][:200]})") from None


class Predictor:
    """Load a bundle once, then ``probs(images)`` / ``read(images)`` on uint8 NHWC RGB arrays."""

    def __init__(self, bundle: str | os.PathLike, threads: int | None = None):
        self.model_path = find_model(bundle)
        self.info = read_labels(self.model_path.parent)
        self.heads = self.info["heads"]
        self.height, self.width = int(self.info["input"]["height"]), int(self.info["input"]["width"])
        self.threads = threads or os.cpu_count() or 1
        suffix = self.model_path.suffix
        if suffix == ".tflite":
            self.runtime = "litert"
            self._interpreter = tflite_interpreter(self.model_path, self.threads)
            try:
                self._runner = self._interpreter.get_signature_runner()
            except ValueError as exc:
                raise BundleError(f"{self.model_path}: no serving signature ({exc})") from None
            self._in = self._runner.get_input_details()
            self._out = self._runner.get_output_details()
            self._input_name = next(iter(self._in))
        elif suffix == ".onnx":
            self.runtime = "onnxruntime"
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            try:
                self._session = ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
                raise BundleError(f"{self.model_path}: not a valid ONNX model ({str(exc)[:200]})") from None
            self._input_name = self._session.get_inputs()[0].name
        else:
            raise BundleError(f"{self.model_path}: unknown model type {suffix!r}")
        self._check_labels()

    def _output_widths(self) -> dict[str, int | None]:
        """Classes per model output (None where the runtime does not say)."""
        if self.runtime == "litert":
            return {n: int(d["shape"][-1]) for n, d in self._out.items()}
        return {o.name: o.shape[-1] if isinstance(o.shape[-1], int) else None for o in self._session.get_outputs()}

    def _input_hw(self) -> tuple[int | None, int | None]:
        shape = self._in[self._input_name]["shape"] if self.runtime == "litert" else self._session.get_inputs()[0].shape
        return tuple(v if isinstance(v, (int, np.integer)) and v > 0 else None for v in shape[1:3])  # type: ignore[return-value]

    def _check_labels(self) -> None:
        """labels.json must describe this model: every head an output, every output a head,
        each head's class count the output's width, the input size the model's. A cut or stale
        labels.json would otherwise be read silently (wrong text, dropped attributes)."""
        where = f"{self.model_path.parent}/labels.json"
        widths = self._output_widths()
        names = [h["name"] for h in self.heads]
        missing = [n for n in names if n not in widths]
        if missing:
            raise BundleError(f"{where}: lists head(s) {missing} that {self.model_path.name} does not output")
        extra = [n for n in widths if n not in names]
        if extra:
            raise BundleError(f"{where}: does not list model output(s) {extra} of {self.model_path.name}")
        for head in self.heads:
            width = widths[head["name"]]
            if width is not None and width != len(head["classes"]):
                raise BundleError(
                    f"{where}: head {head['name']!r} lists {len(head['classes'])} classes, the model outputs {width}"
                )
        h, w = self._input_hw()
        if (h is not None and h != self.height) or (w is not None and w != self.width):
            raise BundleError(f"{where}: input {self.height}x{self.width}, the model takes {h}x{w}")

    @property
    def output_names(self) -> list[str]:
        if self.runtime == "litert":
            return list(self._out)
        return [o.name for o in self._session.get_outputs()]

    def _prepare(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        if images.shape[1:] != (self.height, self.width, 3):
            raise BundleError(f"images must be (N, {self.height}, {self.width}, 3), got {images.shape}")
        return images

    def _feed(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The runtime's input for uint8 RGB images: float32 for ONNX; for TFLite the input
        tensor's type, quantised with its scale and zero point (and clipped to its range)."""
        images = self._prepare(images)
        x = images.astype(np.float32)
        if self.runtime == "onnxruntime":
            return {self._input_name: x}
        detail = self._in[self._input_name]
        dtype = detail["dtype"]
        if dtype in (np.uint8, np.int8):
            scale, zero = detail["quantization"]
            if scale:
                x = np.round(x / scale + zero)
            info = np.iinfo(dtype)
            x = np.clip(x, info.min, info.max)
        return {self._input_name: x.astype(dtype)}

    def probs(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Per-head probabilities (float32) for uint8 RGB images at the model's input size."""
        feed = self._feed(images)
        if self.runtime == "onnxruntime":
            return dict(zip(self.output_names, self._session.run(None, feed), strict=True))
        result = {}
        for name, value in self._runner(**feed).items():
            d = self._out[name]
            if d["dtype"] in (np.uint8, np.int8) and d["quantization"][0]:
                scale, zero = d["quantization"]
                value = (value.astype(np.float32) - zero) * scale
            result[name] = value.astype(np.float32)
        return result

    def bind(self, images: np.ndarray):
        """A no-argument callable running only the model on ``images`` (inputs prepared
        once, as ``probs`` prepares them), for latency measurement without Python
        pre/post-processing."""
        feed = self._feed(images)
        if self.runtime == "onnxruntime":
            return lambda: self._session.run(None, feed)
        return lambda: self._runner(**feed)

    def read(self, images: np.ndarray, views: int = 1) -> list[dict[str, Any]]:
        """Plate text, confidence (min over text heads of the top probability) and attributes;
        ``views`` > 1 averages the probabilities over that many crops of each image (``VIEWS``)."""
        probs = mean_over_views(self.probs, images, views)
        text_heads = [h for h in self.heads if h.get("kind", "char") == "char"]
        attr_heads = [h for h in self.heads if h.get("kind") == "attribute"]
        out = []
        for b in range(len(next(iter(probs.values())))):
            text = "".join(h["classes"][int(probs[h["name"]][b].argmax())] for h in text_heads)
            conf = min(float(probs[h["name"]][b].max()) for h in text_heads)
            attrs = {h["name"]: h["classes"][int(probs[h["name"]][b].argmax())] for h in attr_heads}
            out.append({"text": text, "confidence": conf, "attributes": attrs})
        return out

    def load(self, path: str | os.PathLike) -> np.ndarray:
        """An image file resized to the model input (bilinear), as uint8 RGB, read as training
        reads it (``plates.images.to_rgb``)."""
        try:
            with Image.open(path) as im:
                im.load()
                return np.asarray(to_rgb(im).resize((self.width, self.height), Image.Resampling.BILINEAR))
        except (OSError, SyntaxError, ValueError) as exc:
            raise BundleError(f"{path}: not a readable image ({exc})") from None


def _view(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """One ``VIEWS`` crop of an H x W x 3 image, resized back to H x W."""
    h, w = image.shape[:2]
    left, top, right, bottom = box

    def border(share: float, size: int) -> int:
        return round(max(0.0, -share) * size)

    def cut(share: float, size: int) -> int:
        return round(max(0.0, share) * size)

    pad = [(border(top, h), border(bottom, h)), (border(left, w), border(right, w)), (0, 0)]
    a = np.pad(image, pad, mode="edge")
    a = a[cut(top, h) : a.shape[0] - cut(bottom, h), cut(left, w) : a.shape[1] - cut(right, w)]
    if a.shape[:2] == (h, w):
        return a
    return np.asarray(Image.fromarray(a).resize((w, h), Image.Resampling.BILINEAR))


def crop_views(images: np.ndarray, views: int | Sequence[tuple[float, float, float, float]]) -> np.ndarray:
    """``(N * len(boxes), H, W, 3)`` uint8: each image's crops, image by image; ``views`` is a
    ``VIEWS`` key or the boxes themselves (as ``VIEWS`` writes them)."""
    if isinstance(views, int):
        if views not in VIEWS:
            raise ValueError(f"views must be one of {sorted(VIEWS)}, got {views}")
        views = VIEWS[views]
    return np.stack([_view(image, box) for image in np.asarray(images) for box in views])


def mean_over_views(probs_of, images: np.ndarray, views: int = 1) -> dict[str, np.ndarray]:
    """``probs_of(images)`` averaged over each image's ``views`` crops (``probs_of`` itself for 1)."""
    if views == 1:
        return probs_of(images)
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    probs = probs_of(crop_views(images, views))
    return {k: v.reshape(len(images), views, *v.shape[1:]).mean(1) for k, v in probs.items()}


def to_rgb(im: Image.Image) -> Image.Image:
    """A copy of ``plates.images.to_rgb`` (this file runs alone on a device; a test keeps the two
    identical): 16-bit and wider grayscale scaled to 8 bits, alpha dropped."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        top = float(a.max()) if a.size else 0.0
        if im.mode.startswith("I;16") or 255 < top <= 65535:
            a = a / 257.0  # 16-bit range
        elif top > 65535:
            a = a * (255.0 / top)  # wider: by its maximum
        elif im.mode == "F" and top <= 1.0:
            a = a * 255.0  # float 0..1
        im = Image.fromarray(np.round(np.clip(a, 0, 255)).astype(np.uint8), "L")
    return im if im.mode == "RGB" else im.convert("RGB")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    views = 1
    if len(argv) >= 2 and argv[0] == "--views":
        views = int(argv[1]) if argv[1] in {str(v) for v in VIEWS} else 0
        argv = argv[2:]
    if len(argv) < 2 or not views:
        print(f"usage: predictor.py [--views {'|'.join(map(str, VIEWS))}] BUNDLE IMAGE [IMAGE ...]", file=sys.stderr)
        return 2
    try:
        p = Predictor(argv[0])
        for path in argv[1:]:
            r = p.read(p.load(path), views)[0]
            attrs = " ".join(f"{k}={v}" for k, v in r["attributes"].items())
            print(f"{path}\t{r['text']}\t{r['confidence']:.4f}\t{attrs}")
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
