"""Camera and crop effects that make a clean plate look like a real detector crop.

Seen in real crops (e.g. ``plates-real-dev``): 94x24 px, slight rotation and perspective,
crops that cut the frame or show car body above and below, blur, JPEG blocks, dim or
over-exposed lighting, colour casts, shadows and dirt. Every effect draws its strength from
the caller's ``rng`` so a seed reproduces an image exactly."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

from plates.images import perspective_coeffs


def _background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Car body, bumper or road behind the plate: a shaded colour with noise."""
    w, h = size
    base = rng.choice([rng.uniform(0, 255, 3), rng.uniform(0, 80, 3), rng.uniform(150, 255, 3)])
    grad = np.linspace(rng.uniform(0.5, 1.2), rng.uniform(0.5, 1.2), h, dtype=np.float32)[:, None, None]
    arr = base[None, None, :] * grad + rng.normal(0, rng.uniform(2, 25), (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def place(plate: np.ndarray, out_size: tuple[int, int], rng: np.random.Generator, supersample: int = 2) -> np.ndarray:
    """Warp the plate into an ``out_size`` = (w, h) crop with a random pose and crop margin."""
    ph, pw = plate.shape[:2]
    w, h = out_size[0] * supersample, out_size[1] * supersample
    # Crop margins as a fraction of the crop: negative cuts into the plate (tight crops), large
    # ones leave car body around it (loose crops from a detector box that was not refined).
    if rng.random() < 0.35:
        left, right = rng.uniform(0.02, 0.14, 2) * w
        top, bottom = rng.uniform(0.06, 0.3, 2) * h
    else:
        left, right = rng.uniform(-0.03, 0.06, 2) * w
        top, bottom = rng.uniform(-0.06 if ph < pw / 2.5 else -0.01, 0.16, 2) * h
    rect = np.asarray([[left, top], [w - right, top], [w - right, h - bottom], [left, h - bottom]], np.float64)
    centre = rect.mean(0)
    angle = np.deg2rad(np.clip(rng.normal(0, 2.5), -8, 8))
    shear = np.clip(rng.normal(0, 0.07), -0.2, 0.2)
    rot = np.asarray([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = (rect - centre) @ np.asarray([[1, 0], [shear, 1]]).T @ rot.T + centre
    quad += np.clip(rng.normal(0, 0.015, quad.shape), -0.04, 0.04) * [w, h]  # perspective
    src = np.asarray([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64)
    rgba = np.concatenate([np.clip(plate, 0, 255), np.full((ph, pw, 1), 255, np.float32)], axis=2).astype(np.uint8)
    warped = Image.fromarray(rgba, "RGBA").transform(
        (w, h), Image.Transform.PERSPECTIVE, tuple(perspective_coeffs(src, quad)), Image.Resampling.BILINEAR
    )
    out = _background((w, h), rng)
    out.paste(warped, (0, 0), warped)
    return np.asarray(out.resize(out_size, Image.Resampling.BOX), np.float32)


def photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lighting, colour cast, shadow, dirt, glare on a float image in 0..255."""
    h, w = img.shape[:2]
    img = img * rng.uniform(0.6, 1.25) + rng.uniform(-30, 30)  # exposure
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.65, 1.15) + mean  # contrast (haze)
    img = img * rng.uniform(0.8, 1.2, 3)  # colour cast / white balance
    if rng.random() < 0.35:  # shadow edge across the plate
        xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
        ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
        a = rng.uniform(0, 2 * np.pi)
        edge = np.cos(a) * xs + np.sin(a) * ys + rng.uniform(-0.6, 0.6)
        img = img * np.where(edge > 0, rng.uniform(0.45, 0.85), 1.0)[..., None]
    if rng.random() < 0.25:  # glare / specular highlight
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.2, 0.8) * w
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        img = img + rng.uniform(40, 140) * np.exp(-((xx - cx) ** 2 + ((yy - cy) * 3) ** 2) / (2 * r * r))[..., None]
    if rng.random() < 0.3:  # dirt blotches
        for _ in range(int(rng.integers(1, 6))):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(1, 0.15 * w)
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            m = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None] * rng.uniform(0.2, 0.6)
            img = img * (1 - m) + rng.uniform(40, 110, 3) * m
    gamma = rng.uniform(0.7, 1.4)
    img = 255.0 * (np.clip(img, 0, 255) / 255.0) ** gamma
    return img


def camera(img: np.ndarray, rng: np.random.Generator) -> bytes:
    """Blur, low resolution, sensor noise and JPEG compression; returns the JPEG file's bytes."""
    h, w = img.shape[:2]
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    r = rng.random()
    if r < 0.45:
        pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.1)))
    elif r < 0.6:  # horizontal motion blur
        pil = pil.filter(ImageFilter.Kernel((3, 3), [0, 0, 0, 1, 1, 1, 0, 0, 0], 3))
    if rng.random() < 0.3:  # captured at lower resolution, upscaled by the detector
        f = rng.uniform(0.45, 0.85)
        small = (max(8, int(w * f)), max(4, int(h * f)))
        pil = pil.resize(small, Image.Resampling.BILINEAR).resize((w, h), Image.Resampling.BILINEAR)
    arr = np.asarray(pil, np.float32)
    noisy = arr + rng.normal(0, rng.uniform(0, 9), arr.shape)
    pil = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=int(rng.integers(25, 96)))
    return buf.getvalue()
