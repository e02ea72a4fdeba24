"""tf.data input pipeline: read, decode, resize, (cache), augment, batch, prefetch.

Yields ``(images, labels)``: float32 raw pixels 0..255 at the model input size, and an
int32 (batch, heads) label matrix in spec order (-1 = unknown). Whitening is not done
here: it is inside the model, so exported models take raw pixels."""

from __future__ import annotations

import dataclasses

import numpy as np

from plates.images import load_crop
from plates.keras import tf
from plates.readers import Samples

AUTOTUNE = tf.data.AUTOTUNE
SHUFFLE_BUFFER = 20000  # decoded images held for the per-pass shuffle (the order across sources is global)


@dataclasses.dataclass(frozen=True)
class Augment:
    """Train-time augmentation on top of what the synthetic generator already varies."""

    shift: float = 0.04  # crop box jitter as a fraction of the image
    scale: float = 0.06
    brightness: float = 30.0
    contrast: tuple[float, float] = (0.7, 1.3)
    saturation: tuple[float, float] = (0.6, 1.4)
    hue: float = 0.04
    noise: float = 6.0
    grayscale: float = 0.05

    @classmethod
    def off(cls) -> Augment:
        return cls(0.0, 0.0, 0.0, (1.0, 1.0), (1.0, 1.0), 0.0, 0.0, 0.0)


def _decode(size: tuple[int, int]):
    h, w = size

    def decode(path: tf.Tensor) -> tf.Tensor:
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image = tf.image.resize(image, (h, w), antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)

    return decode


def _decode_quad(size: tuple[int, int]):
    h, w = size

    def load(path: bytes, quad: np.ndarray) -> np.ndarray:
        return load_crop(path.decode("utf-8"), (w, h), quad)

    def decode(path: tf.Tensor, quad: tf.Tensor) -> tf.Tensor:
        image = tf.numpy_function(load, [path, quad], tf.uint8)
        return tf.ensure_shape(image, (h, w, 3))

    return decode


def augment_image(image: tf.Tensor, aug: Augment) -> tf.Tensor:
    """One image, float32 0..255 in and out."""
    h, w = image.shape[0], image.shape[1]
    if aug.shift or aug.scale:
        s = tf.random.uniform([], 1 - aug.scale, 1 + aug.scale)
        d = tf.random.uniform([2], -aug.shift, aug.shift)
        dy, dx = d[0], d[1]
        half = 0.5 * s
        box = tf.stack([0.5 - half + dy, 0.5 - half + dx, 0.5 + half + dy, 0.5 + half + dx])
        image = tf.image.crop_and_resize(image[None], box[None], [0], (h, w), extrapolation_value=0.0)[0]
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


def make_dataset(
    samples: Samples,
    size: tuple[int, int],
    batch_size: int,
    training: bool = False,
    augment: Augment | None = None,
    seed: int = 0,
    cache: bool = True,
    repeat: bool = False,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Dataset of (float32 images 0..255, int32 labels) for ``samples`` at ``size`` = (h, w).

    For training, the samples are first put in one seeded random order: sources arrive
    concatenated (100k synthetic, then the real crops), and a shuffle buffer smaller than the
    set only mixes locally, which fed the real crops in one burst at the end of every pass;
    validation accuracy then rose and fell with the distance from that burst
    (docs/experiments/005)."""
    if training:
        samples = samples.subset(np.random.default_rng(seed).permutation(len(samples)))
    labels = tf.data.Dataset.from_tensor_slices(samples.labels.astype(np.int32))
    if samples.quads is not None:
        quads = samples.quads.astype(np.float32)  # NaN rows (no quad) are plain resizes
        images = tf.data.Dataset.from_tensor_slices((samples.paths, quads)).map(
            _decode_quad(size), num_parallel_calls=AUTOTUNE
        )
    else:
        images = tf.data.Dataset.from_tensor_slices(samples.paths).map(_decode(size), num_parallel_calls=AUTOTUNE)
    ds = tf.data.Dataset.zip((images, labels))
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(min(len(samples), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    aug = augment if augment is not None else (Augment() if training else Augment.off())
    if training and aug != Augment.off():
        ds = ds.map(lambda x, y: (augment_image(tf.cast(x, tf.float32), aug), y), num_parallel_calls=AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def load_images(samples: Samples, size: tuple[int, int]) -> np.ndarray:
    """All images as one uint8 (N, h, w, 3) array (evaluation, calibration, parity)."""
    if not len(samples):
        return np.zeros((0, *size, 3), np.uint8)
    ds = make_dataset(samples, size, batch_size=256, cache=False)
    return np.concatenate([x.numpy().astype(np.uint8) for x, _ in ds])
