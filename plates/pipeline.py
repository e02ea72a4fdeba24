"""tf.data input pipeline: decode once (uint8, in memory), shuffle, augment, batch, prefetch.

Yields ``(images, labels)``: float32 raw pixels 0..255 at the model input size, and an
int32 (batch, heads) label matrix in spec order (-1 = unknown). Whitening is not done
here: it is inside the model, so exported models take raw pixels."""

from __future__ import annotations

import dataclasses

import numpy as np

from plates.keras import tf
from plates.readers import Samples

AUTOTUNE = tf.data.AUTOTUNE


@dataclasses.dataclass(frozen=True)
class Augment:
    """Train-time augmentation on top of what the synthetic generator already varies."""

    shift: float = 0.04  # crop box jitter as a fraction of the image
    scale: float = 0.06
    # up to this fraction of extra border per side (edges replicated): the heads read fixed
    # positions of a flattened feature map, so a model that only saw tight crops misreads the
    # same plate cropped a little looser, as other detectors' boxes are
    zoom_out: float = 0.0
    # and up to this fraction per side tighter (the ends of the plate cut), as tight detectors crop
    zoom_in: float = 0.0
    # and up to this fraction of the width cut from each end on its own, the height kept: boxes
    # that clip the province character (or the last one) while the plate's top and bottom show,
    # which the symmetric zoom above rarely draws since it tightens both ends and both axes at once
    cut_ends: float = 0.0
    # in-plane tilt and the vertical shear of a plate seen from the side, up to these degrees
    # (edges replicated): real crops are tilted and skewed, the generator's and CCPD's are straight
    rotate: float = 0.0
    shear: float = 0.0
    # up to this fraction shorter at one end than at the other (a plate seen from the side, in
    # perspective): the tilt and shear above keep both ends the same height
    perspective: float = 0.0
    # up to this share of the resolution lost (shrunk, then enlarged back): for cameras whose
    # crops are softer than the training crops
    blur: float = 0.0
    brightness: float = 30.0
    contrast: tuple[float, float] = (0.7, 1.3)
    saturation: tuple[float, float] = (0.6, 1.4)
    hue: float = 0.04
    noise: float = 6.0
    grayscale: float = 0.05

    @classmethod
    def off(cls) -> Augment:
        return cls(
            shift=0.0,
            scale=0.0,
            zoom_out=0.0,
            zoom_in=0.0,
            cut_ends=0.0,
            rotate=0.0,
            shear=0.0,
            perspective=0.0,
            blur=0.0,
            brightness=0.0,
            contrast=(1.0, 1.0),
            saturation=(1.0, 1.0),
            hue=0.0,
            noise=0.0,
            grayscale=0.0,
        )


def decode_all(
    samples: Samples, size: tuple[int, int], skip_bad: bool = False, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(uint8 (N, h, w, 3), indices of the samples kept)``: ``decode_unique`` expanded to one
    row per kept sample (for evaluation-sized sets; training gathers from the unique rows)."""
    unique, rows, kept = decode_unique(samples, size, skip_bad, progress)
    return unique[rows], kept


def decode_unique(
    samples: Samples, size: tuple[int, int], skip_bad: bool = False, progress: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every image of ``samples`` decoded once (Pillow, the one decoder of every path: training,
    evaluation, calibration and the predictor read a file alike), resized or rectified to
    ``size`` = (h, w): ``(uint8 (U, h, w, 3) of the U distinct files, the row of each kept
    sample in it, the indices of the samples kept)``.

    Decoding up front, before any training step, is what lets a bad file be reported by path
    before an epoch's work is lost; a file repeated by ``SRC*N`` is decoded once. Unreadable
    files raise ``DataError`` naming the first and the count, unless ``skip_bad`` drops them
    (with a warning that counts them)."""
    from plates import logger
    from plates.decode import decode_crops
    from plates.errors import DataError

    images, rows, errors = decode_crops(samples, size, progress)
    bad = list(errors.values())
    if bad and not skip_bad:
        more = f" (and {len(bad) - 1} more of {len(images)})" if len(bad) > 1 else ""
        raise DataError(f"{bad[0]}{more}; fix or remove them, or skip them with --skip-bad-images")
    if bad:
        logger.warning("skipped %d unreadable images of %d (first: %s)", len(bad), len(images), bad[0])
    readable = np.ones(len(images), bool)
    readable[list(errors)] = False
    kept = np.flatnonzero(readable[rows])
    return images, rows[kept], kept


def augment_image(image: tf.Tensor, aug: Augment) -> tf.Tensor:
    """One image, float32 0..255 in and out."""
    h, w = image.shape[0], image.shape[1]
    if aug.shift or aug.scale or aug.zoom_out or aug.zoom_in or aug.cut_ends:
        # replicate the edges far enough that no box below leaves the image (no black bars)
        margin = aug.zoom_out + 0.5 * aug.scale + aug.shift
        ph, pw = int(np.ceil(margin * h)), int(np.ceil(margin * w))
        image = tf.gather(image, np.clip(np.arange(-ph, h + ph), 0, h - 1), axis=0)
        image = tf.gather(image, np.clip(np.arange(-pw, w + pw), 0, w - 1), axis=1)
        inner = tf.constant([h / (h + 2 * ph), w / (w + 2 * pw)], tf.float32)  # the original's extent
        # per axis: a box up to `scale` + 2 * zoom_in tighter, or up to `scale` + 2 * zoom_out looser
        s = tf.random.uniform([2], 1 - aug.scale - 2 * aug.zoom_in, 1 + aug.scale + 2 * aug.zoom_out) * inner
        d = tf.random.uniform([2], -aug.shift, aug.shift) * inner
        lo, hi = 0.5 - 0.5 * s + d, 0.5 + 0.5 * s + d
        if aug.cut_ends:
            cut = tf.random.uniform([2], 0.0, aug.cut_ends) * inner[1]
            lo = lo + tf.stack([0.0, cut[0]])
            hi = hi - tf.stack([0.0, cut[1]])
        box = tf.stack([lo[0], lo[1], hi[0], hi[1]])
        image = tf.image.crop_and_resize(image[None], box[None], [0], (h, w))[0]
    if aug.rotate or aug.shear or aug.perspective:
        image = _tilt(image, aug.rotate, aug.shear, aug.perspective)
    if aug.blur:
        f = tf.random.uniform([], 1 - aug.blur, 1.0)
        small = tf.maximum(tf.cast(tf.round(f * np.array([h, w], np.float32)), tf.int32), 1)
        image = tf.image.resize(tf.image.resize(image, small, antialias=True), (h, w))
    image = image + tf.random.uniform([], -aug.brightness, aug.brightness)
    mean = tf.reduce_mean(image, axis=[0, 1], keepdims=True)
    image = (image - mean) * tf.random.uniform([], *aug.contrast) + mean
    image = tf.clip_by_value(image, 0.0, 255.0) / 255.0
    if aug.saturation != (1.0, 1.0):
        image = tf.image.adjust_saturation(image, tf.random.uniform([], *aug.saturation))
    if aug.hue:
        image = tf.image.adjust_hue(image, tf.random.uniform([], -aug.hue, aug.hue))
    if aug.grayscale:
        gray = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))
        image = tf.where(tf.random.uniform([]) < aug.grayscale, gray, image)
    image = image * 255.0
    if aug.noise:
        image = image + tf.random.normal(tf.shape(image), stddev=tf.random.uniform([], 0, aug.noise))
    return tf.clip_by_value(image, 0.0, 255.0)


def _tilt(image: tf.Tensor, rotate: float, shear: float, perspective: float = 0.0) -> tf.Tensor:
    """``image`` turned about its centre by up to ``rotate`` degrees, sheared vertically (the
    top and bottom edges slope, the strokes stay upright) by up to ``shear`` degrees, and seen in
    perspective: one end shown up to ``perspective`` shorter than the other (either end)."""
    h, w = image.shape[0], image.shape[1]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    theta = tf.random.uniform([], -rotate, rotate) * (np.pi / 180)
    slope = tf.tan(tf.random.uniform([], -shear, shear) * (np.pi / 180))
    # the shorter end is 1 - |p| as tall as the other: (1 - |g| w/2) / (1 + |g| w/2) = 1 - |p|
    p = tf.random.uniform([], -perspective, perspective)
    g = 2 * p / ((2 - tf.abs(p)) * w)
    cos, sin = tf.cos(theta), tf.sin(theta)
    # output pixel (x, y), dx = x - cx, dy = y - cy, reads input
    # (cx + (cos dx - sin dy) / k, cy + ((sin + slope) dx + cos dy) / k) with k = 1 + g dx,
    # written as one projective transform normalised to k's constant term 1
    a0, a1, b0, b1 = cos, -sin, sin + slope, cos
    n = 1 - g * cx
    transform = tf.stack(
        [
            (a0 + g * cx) / n,
            a1 / n,
            (cx - g * cx * cx - a0 * cx - a1 * cy) / n,
            (b0 + g * cy) / n,
            b1 / n,
            (cy - g * cx * cy - b0 * cx - b1 * cy) / n,
            g / n,
            0.0,
        ]
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None],
        transforms=transform[None],
        output_shape=tf.constant([h, w]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )[0]


def make_dataset(
    samples: Samples,
    size: tuple[int, int],
    batch_size: int,
    training: bool = False,
    augment: Augment | None = None,
    seed: int = 0,
    repeat: bool = False,
    drop_remainder: bool = False,
    skip_bad: bool = False,
    progress: bool = False,
) -> tf.data.Dataset:
    """Dataset of (float32 images 0..255, int32 labels) for ``samples`` at ``size`` = (h, w).

    The images are decoded once, up front (``decode_all``), and held as uint8; training then
    draws a fresh seeded permutation of the whole set every pass. (A shuffle buffer smaller
    than the set only mixes locally: sources arrive concatenated, so the real crops came in one
    burst per pass and validation accuracy rose and fell with the distance from it,
    docs/experiments/005.)"""
    unique, rows, kept = decode_unique(samples, size, skip_bad, progress)
    labels = samples.labels[kept].astype(np.int32)
    if training:  # one copy of each distinct image; a repeated source is gathered, not copied
        images_t, rows_t, labels_t = tf.constant(unique), tf.constant(rows), tf.constant(labels)
        ds = tf.data.Dataset.range(len(labels)).shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()  # each pass draws a new order
        ds = ds.map(
            lambda i: (tf.gather(images_t, tf.gather(rows_t, i)), tf.gather(labels_t, i)), num_parallel_calls=AUTOTUNE
        )
    else:
        ds = tf.data.Dataset.from_tensor_slices((unique[rows], labels))
        if repeat:
            ds = ds.repeat()
    aug = augment if augment is not None else (Augment() if training else Augment.off())
    if training and aug != Augment.off():
        ds = ds.map(lambda x, y: (augment_image(tf.cast(x, tf.float32), aug), y), num_parallel_calls=AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=AUTOTUNE)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)
    options = tf.data.Options()
    # a checkpointed iterator keeps its order and position; the augmentation's random state is not
    # saved (a resumed run draws other random numbers, on the same batches)
    options.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE
    return ds.with_options(options)


def load_images(samples: Samples, size: tuple[int, int]) -> np.ndarray:
    """All images as one uint8 (N, h, w, 3) array (evaluation, calibration, parity)."""
    if not len(samples):
        return np.zeros((0, *size, 3), np.uint8)
    return decode_all(samples, size)[0]
