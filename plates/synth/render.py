"""Draw a clean, front-on plate at 1 px = 1 mm, following the GA 36 layouts.

Plate kinds differ by size, colours and character boxes; glyphs come from the shipped font
subsets, scaled to the tall, narrow character boxes real plates use (a Hanzi is drawn 45 mm
wide and 90 mm tall, so it is condensed the way plate lettering is). No free font is the plate
typeface, so every plate draws its Hanzi face and its Latin face independently from several
(domain randomisation): a model that only ever saw one face learns that face's quirks and
reads a real plate's province as whichever synthetic glyph it happens to resemble.

Where Noto differs from the plate typeface in a way a 24-px crop still shows, the glyph is
drawn instead (``DRAWN``): the plate ``1`` has no foot (Noto's reads as ``T`` or ``7`` when
blurred) and the plate ``M`` has vertical legs whose V stops near mid-height (Noto's V
reaches the baseline, so a real ``M`` looked like nothing the teacher had seen and it said
``H``). Stroke weight varies per plate (two font weights, then thinned or thickened) because
real plates range from thin embossed strokes to thick painted ones."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
#: faces that hold the Hanzi (and Latin); the first is the heaviest
HANZI_FONTS = (
    "NotoSansSC-Bold-plates.otf",
    "NotoSansSC-Regular-plates.otf",
    "WenQuanYiMicroHei-plates.ttf",
    "DroidSansFallback-plates.ttf",
)
#: faces for letters and digits (Droid Sans Fallback has no Latin; DejaVu has no Hanzi)
LATIN_FONTS = (*HANZI_FONTS[:3], "DejaVuSansCondensed-Bold-plates.ttf", "DejaVuSans-Bold-plates.ttf")
FONTS = (*HANZI_FONTS, *LATIN_FONTS[3:])


@dataclasses.dataclass(frozen=True)
class HanziFace:
    """A face the province (and other Hanzi) may be drawn in.

    ``heavy`` faces are thinned as often as thickened, the lighter ones mostly thickened, so
    that stroke weight spans thin embossed to thick painted lettering whichever face is drawn.
    ``slant`` (degrees, as the font's italic angle) is undone when the glyph is drawn: an
    oblique face still gives condensed, geometric shapes no upright free face has."""

    file: str
    heavy: bool = False
    slant: float = 0.0


#: name -> face; ``--hanzi-faces`` picks from these (the first four are the default set)
HANZI_FACES: dict[str, HanziFace] = {
    "noto-bold": HanziFace(HANZI_FONTS[0], heavy=True),
    "noto-regular": HanziFace(HANZI_FONTS[1]),
    "wqy-microhei": HanziFace(HANZI_FONTS[2]),
    "droid-fallback": HanziFace(HANZI_FONTS[3]),
    "noto-black": HanziFace("NotoSansSC-Black-plates.otf", heavy=True),
    "noto-medium": HanziFace("NotoSansSC-Medium-plates.otf"),
    "smiley": HanziFace("SmileySans-plates.ttf", slant=-8.0),
}
DEFAULT_HANZI_FACES = ("noto-bold", "noto-regular", "wqy-microhei", "droid-fallback")
_SLANT = {face.file: face.slant for face in HANZI_FACES.values() if face.slant}


@dataclasses.dataclass(frozen=True)
class Style:
    """Colours of one plate kind."""

    background: tuple[int, int, int]
    ink: tuple[int, int, int]
    frame: tuple[int, int, int]
    gradient_to: tuple[int, int, int] | None = None  # green new-energy plates
    first_ink: tuple[int, int, int] | None = None
    last_ink: tuple[int, int, int] | None = None  # police 警 in red


STYLES: dict[str, Style] = {
    "blue": Style((18, 64, 190), (245, 245, 245), (235, 235, 235)),
    "yellow": Style((238, 178, 20), (15, 15, 15), (20, 20, 20)),
    "green": Style((236, 248, 236), (12, 12, 12), (40, 40, 40), gradient_to=(70, 190, 95)),
    "white": Style((240, 240, 240), (15, 15, 15), (20, 20, 20), last_ink=(200, 20, 20)),
    "black": Style((18, 18, 18), (240, 240, 240), (230, 230, 230)),
}


def _draw_one(draw: ImageDraw.ImageDraw, w: int, h: int, stroke: int, flag: float = 1.0) -> None:
    """Plate ``1``: a stem right of centre with a flag of relative length ``flag``, no foot.

    Worn or low-resolution plates show the flag short or not at all (a bare bar)."""
    x = w * 0.58
    draw.line([(x, 0), (x, h)], fill=255, width=stroke)
    if flag > 0:
        end = (x - (x - w * 0.18) * flag, stroke * 0.4 + (h * 0.2 - stroke * 0.4) * flag)
        draw.line([(x, stroke * 0.4), end], fill=255, width=int(stroke * 0.9))


def _draw_m(draw: ImageDraw.ImageDraw, w: int, h: int, stroke: int, flag: float = 1.0) -> None:
    """Plate ``M``: vertical legs, diagonals meeting a little below mid-height."""
    half = stroke / 2
    draw.line([(half, h), (half, 0)], fill=255, width=stroke)
    draw.line([(w - half, h), (w - half, 0)], fill=255, width=stroke)
    depth = h * 0.62
    draw.line([(half, half), (w / 2, depth)], fill=255, width=int(stroke * 0.85))
    draw.line([(w - half, half), (w / 2, depth)], fill=255, width=int(stroke * 0.85))


DRAWN = {"1": _draw_one, "M": _draw_m}
STROKE = 0.15  # default drawn-glyph stroke as a fraction of the glyph width


def _ring(draw: ImageDraw.ImageDraw, w: int, h: int, stroke: int, radius: float, square_left: bool = False) -> None:
    """The plate ``0`` outline: straight sides, corners of ``radius`` x the width (0.5 =
    half-circle ends); ``square_left`` gives the ``D``."""
    r = int(radius * w)
    corners = (not square_left, True, True, not square_left)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=r, outline=255, width=stroke, corners=corners)


def _draw_c(draw: ImageDraw.ImageDraw, w: int, h: int, stroke: int, radius: float) -> None:
    """Plate ``C``: the ``0`` outline open on the right between its corners, the ends cut
    level (a font's ``C`` ends on a slant and its bowl is round)."""
    _ring(draw, w, h, stroke, radius)
    end = max(stroke, 0.85 * radius * w)
    draw.rectangle((w - stroke - 2, end, w, h - end), fill=0)


def _draw_g(draw: ImageDraw.ImageDraw, w: int, h: int, stroke: int, radius: float) -> None:
    """Plate ``G``: the ``C`` closed on the lower right up to mid-height, with a bar inwards there."""
    _ring(draw, w, h, stroke, radius)
    draw.rectangle((w - stroke - 2, max(stroke, 0.85 * radius * w), w, h * 0.5), fill=0)
    draw.rectangle((w * 0.5, h * 0.5, w - 1, h * 0.5 + stroke * 0.9), fill=255)


def _draw_q(draw: ImageDraw.ImageDraw, w: int, h: int, stroke: int, radius: float) -> None:
    """Plate ``Q``: the ``0`` with a short tail across its lower right corner."""
    _ring(draw, w, h, stroke, radius)
    draw.line([(w * 0.55, h * 0.74), (w - 1, h - 1)], fill=255, width=int(stroke * 0.9))


#: the plate typeface's round family, drawn on a share of the synthetic plates (``RenderConfig``):
#: its straight-sided ``0``, ``C``, ``D``, ``G``, ``Q`` are what real plates show, and the free
#: fonts' round ones are where a model trained on them confuses C/G, Q/0 and 0/D on real crops
ROUNDED = {
    "0": _ring,
    "C": _draw_c,
    "D": lambda draw, w, h, stroke, radius: _ring(draw, w, h, stroke, radius, square_left=True),
    "G": _draw_g,
    "Q": _draw_q,
}


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """Rendering choices beyond the plate text and kind.

    ``rounded_share``: the share of plates whose ``ROUNDED`` characters are drawn in the plate
    typeface's straight-sided shapes instead of a font's (0 draws nothing from the random
    stream, so a seed gives the same plates as before the option existed). ``hanzi_faces``:
    the ``HANZI_FACES`` each plate draws its Hanzi face from (uniformly); the default set keeps
    a seed's plates as they were. ``hanzi_ink_cap``: the largest share of its box a Hanzi may
    ink (``capped_weight``); 1 leaves every glyph at the plate's drawn weight.
    ``hanzi_keep_counters``: thicken a Hanzi only as far as it keeps its counters
    (``open_weight``). Neither option draws from the random stream."""

    rounded_share: float = 0.0
    hanzi_faces: tuple[str, ...] = DEFAULT_HANZI_FACES
    hanzi_ink_cap: float = 1.0
    hanzi_keep_counters: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.rounded_share <= 1.0:
            raise ValueError(f"rounded_share must be in [0, 1], got {self.rounded_share}")
        unknown = [name for name in self.hanzi_faces if name not in HANZI_FACES]
        if unknown or not self.hanzi_faces:
            raise ValueError(f"hanzi_faces must name some of {sorted(HANZI_FACES)}, got {list(self.hanzi_faces)}")
        if not 0.0 < self.hanzi_ink_cap <= 1.0:
            raise ValueError(f"hanzi_ink_cap must be in (0, 1], got {self.hanzi_ink_cap}")


@functools.lru_cache(maxsize=64)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _upright(canvas: Image.Image, slant: float) -> Image.Image:
    """Undo an oblique face's slant (the italic angle, negative when leaning right) by a shear:
    each row moves right by its depth below the top times tan(-slant), so the top stays and
    the foot comes under it."""
    w, h = canvas.size
    k = float(np.tan(np.radians(-slant)))
    grown = w + int(np.ceil(k * h))
    # output (x, y) takes input (x - k * y, y)
    return canvas.transform((grown, h), Image.Transform.AFFINE, (1, -k, 0, 0, 1, 0), Image.Resampling.BILINEAR)


@functools.lru_cache(maxsize=8192)
def glyph_mask(
    char: str,
    font: int | str = 0,
    weight: int = 0,
    size: int = 160,
    stroke: float = STROKE,
    flag: float = 1.0,
    radius: float | None = None,
) -> np.ndarray:
    """Tight float mask (0..1) of ``char`` at roughly ``size`` px tall.

    ``font`` is a file name in ``plates/fonts`` or an index into ``FONTS``. ``weight`` thins
    (< 0) or thickens (> 0) the strokes by ``2 * |weight|`` px at this size. ``stroke`` and
    ``flag`` shape the drawn glyphs (``DRAWN``), which no font supplies; a ``radius`` (corner
    radius / width) draws a ``ROUNDED`` character in the plate's shape instead of the font's."""
    drawn = char in DRAWN or (radius is not None and char in ROUNDED)
    if drawn:
        w = int(size * 0.55)
        canvas = Image.new("L", (w, size), 0)
        width = max(4, int(w * stroke) + 4 * weight)
        if char in DRAWN:
            DRAWN[char](ImageDraw.Draw(canvas), w, size, width, flag)
        else:
            ROUNDED[char](ImageDraw.Draw(canvas), w, size, width, radius)
        weight = 0  # applied to the stroke itself; erosion would eat the thinner diagonals
    else:
        name = font if isinstance(font, str) else FONTS[font]
        face = _font(name, size)
        left, top, right, bottom = face.getbbox(char)
        canvas = Image.new("L", (int(right - left) + 4, int(bottom - top) + 4), 0)
        ImageDraw.Draw(canvas).text((2 - left, 2 - top), char, font=face, fill=255)
        if name in _SLANT:
            canvas = _upright(canvas, _SLANT[name])
    if weight:
        pad = 2 * abs(weight) + 2
        canvas = Image.fromarray(np.pad(np.asarray(canvas), pad))
        morph = ImageFilter.MaxFilter if weight > 0 else ImageFilter.MinFilter
        canvas = canvas.filter(morph(4 * abs(weight) + 1))
    arr = np.asarray(canvas, np.float32) / 255.0
    ys, xs = np.nonzero(arr > 0.05)
    return arr[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


#: the thinnest ``capped_weight`` goes: thinner erodes the short strokes of light faces away
MIN_WEIGHT = -2


@functools.lru_cache(maxsize=4096)
def ink_share(char: str, font: int | str, weight: int) -> float:
    """Share of ``glyph_mask``'s box that is ink (above half intensity)."""
    return float((glyph_mask(char, font, weight) > 0.5).mean())


#: the smallest enclosed gap ``counters`` counts, as a share of the glyph's box: smaller ones vanish
#: at plate resolution anyway
MIN_COUNTER = 0.003


@functools.lru_cache(maxsize=4096)
def counters(char: str, font: int | str, weight: int) -> int:
    """How many counters ``char`` has at ``weight``: regions of background that ink encloses
    (the gaps inside 口, between the strokes of 冀), each at least ``MIN_COUNTER`` of the box."""
    from scipy import ndimage

    background = glyph_mask(char, font, weight) <= 0.5
    regions, n = ndimage.label(background)
    edge = np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    sizes = np.bincount(regions.ravel(), minlength=n + 1)
    inside = np.setdiff1d(np.arange(1, n + 1), edge)
    return int((sizes[inside] >= MIN_COUNTER * background.size).sum())


def open_weight(char: str, font: int | str, weight: int) -> int:
    """``weight``, thinned step by step (not below the face's own 0) until ``char`` has as many
    counters as the face draws it with.

    A sparse glyph keeps its counters when thickened (a bold 京 is a real plate's 京); a dense one
    fills them (冀 becomes a block). Unlike an ink cap, this thins only the thickenings that close
    a glyph up, so the heavy drawings of sparse glyphs stay."""
    own = counters(char, font, 0)
    while weight > 0 and counters(char, font, weight) < own:
        weight -= 1
    return weight


def hanzi_weight(char: str, font: int | str, weight: int, config: RenderConfig) -> int:
    """The weight one Hanzi is drawn at: the plate's, as ``config`` lets it thicken."""
    if config.hanzi_keep_counters:
        weight = open_weight(char, font, weight)
    return capped_weight(char, font, weight, config.hanzi_ink_cap)


def capped_weight(char: str, font: int | str, weight: int, cap: float) -> int:
    """``weight``, thinned step by step (down to ``MIN_WEIGHT``) until ``char`` inks at most ``cap``
    of its tight box.

    A plate's stroke weight is drawn once for all its Hanzi, but a type designer draws a dense
    character (冀, 藏, 赣) thinner than a sparse one so its strokes stay apart. Thickening a
    free face by the same amount for every character closes the gaps of the dense ones: their
    synthetic glyphs become solid blocks, which teaches a model nothing it can match to the
    plate's open, thin-stroked 冀 (read as 贵 or 皖). The cap binds dense glyphs first, and the
    heaviest drawings of sparse ones too (a bold 京 thickened twice inks about 0.7)."""
    while cap < 1.0 and weight > MIN_WEIGHT and ink_share(char, font, weight) > cap:
        weight -= 1
    return weight


def _draw_glyph(
    canvas: np.ndarray,
    ink: np.ndarray,
    char: str,
    box: tuple[float, float, float, float],
    font: str,
    condense: float,
    weight: int = 0,
    stroke: float = STROKE,
    flag: float = 1.0,
    radius: float | None = None,
) -> None:
    """Alpha-blend ``char`` into ``canvas`` (float32 HxWx3) fitted to ``box`` = (x, y, w, h)."""
    x, y, w, h = box
    if char in DRAWN:
        mask = glyph_mask(char, font, weight, stroke=stroke, flag=flag)
    elif radius is not None and char in ROUNDED:
        mask = glyph_mask(char, font, weight, stroke=stroke, radius=radius)
    else:  # stroke and flag do not shape font glyphs: keep them out of the cache key
        mask = glyph_mask(char, font, weight)
    mh, mw = mask.shape
    gw = min(w, mw * h / mh * condense)
    gw_i, h_i = max(2, int(round(gw))), max(2, int(round(h)))
    m = (
        np.asarray(
            Image.fromarray((mask * 255).astype(np.uint8)).resize((gw_i, h_i), Image.Resampling.BILINEAR), np.float32
        )[..., None]
        / 255.0
    )
    x0 = int(round(x + (w - gw_i) / 2))
    y0 = int(round(y))
    region = canvas[y0 : y0 + h_i, x0 : x0 + gw_i]
    m = m[: region.shape[0], : region.shape[1]]
    region[...] = region * (1 - m) + ink * m


def layout_boxes(
    kind: str, layout: str, n: int
) -> tuple[tuple[int, int], list[tuple[float, float, float, float]], tuple[float, float]]:
    """Plate size (w, h) in mm, one box per character, and the separator dot position."""
    if layout == "double":
        w, h = 440, 220
        top: list[tuple[float, float, float, float]] = [(110, 15, 80, 60), (250, 15, 80, 60)]
        bottom = [(27.5 + i * 80, 90.0, 65.0, 110.0) for i in range(n - 2)]
        return (w, h), top + bottom, (220, 45)
    if n == 8:
        w, h, cw, gap, sep = 480, 140, 43, 9, 49
    else:
        w, h, cw, gap, sep = 440, 140, 45, 12, 34
    margin = (w - (cw * n + gap * (n - 2) + sep)) / 2
    boxes: list[tuple[float, float, float, float]] = []
    x = margin
    for i in range(n):
        boxes.append((x, 25, cw, 90))
        x += cw + (sep if i == 1 else gap)
    dot_x = margin + 2 * cw + gap + sep / 2
    return (w, h), boxes, (dot_x, 70)


def render_plate(
    text: str, kind: str, layout: str, rng: np.random.Generator, config: RenderConfig = RenderConfig()
) -> np.ndarray:
    """A front-on plate as float32 (h, w, 3) RGB in 0..255."""
    style = STYLES[kind]
    (w, h), boxes, dot = layout_boxes(kind, layout, len(text))
    jitter = rng.normal(0, 12, 3)
    bg = np.clip(np.asarray(style.background, np.float32) + jitter, 0, 255)
    canvas: np.ndarray = np.empty((h, w, 3), np.float32)
    canvas[...] = bg
    if style.gradient_to is not None:
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        if rng.random() < 0.2:
            t = 1 - t
        canvas = canvas * (1 - t) + (np.asarray(style.gradient_to, np.float32) + jitter) * t
    frame = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(frame)
    inset = rng.uniform(3, 6)
    draw.rounded_rectangle((inset, inset, w - inset, h - inset), radius=10, outline=255, width=int(rng.integers(2, 5)))
    for rx in (w * 0.22, w * 0.78):  # rivets
        ry = rng.uniform(8, 16) if layout == "single" else rng.uniform(60, 80)
        r = rng.uniform(4, 7)
        draw.ellipse((rx - r, ry - r, rx + r, ry + r), fill=int(rng.integers(90, 200)))
    if layout == "single":
        draw.ellipse((dot[0] - 5, dot[1] - 5, dot[0] + 5, dot[1] + 5), fill=255)
    else:
        draw.ellipse((dot[0] - 4, dot[1] - 4, dot[0] + 4, dot[1] + 4), fill=255)
    fm = np.asarray(frame, np.float32)[..., None] / 255.0
    ink = np.asarray(style.ink, np.float32)
    canvas = canvas * (1 - fm) + np.asarray(style.frame, np.float32) * fm
    hanzi_face = HANZI_FACES[config.hanzi_faces[rng.integers(len(config.hanzi_faces))]]
    hanzi_font = hanzi_face.file
    latin_font = LATIN_FONTS[rng.integers(len(LATIN_FONTS))]
    # the bold face gets thinned as often as thickened; the lighter faces mostly thickened
    weight = int(rng.integers(-2, 3)) if latin_font == LATIN_FONTS[0] else int(rng.integers(-1, 4))
    plate_hanzi_weight = int(rng.integers(-1, 3)) if hanzi_face.heavy else int(rng.integers(0, 4))
    condense = rng.uniform(0.7, 1.15)
    stroke = round(float(rng.uniform(0.11, 0.19)), 2)
    flag = round(float(rng.choice([0.0, 0.5, 1.0], p=[0.15, 0.25, 0.6])), 1)
    radius = None
    if config.rounded_share > 0 and rng.random() < config.rounded_share:
        radius = round(float(rng.uniform(0.3, 0.5)), 2)
    for i, (char, box) in enumerate(zip(text, boxes, strict=False)):
        hanzi = not char.isascii()
        char_ink = np.asarray(style.last_ink, np.float32) if hanzi and style.last_ink and i == len(text) - 1 else ink
        font, char_weight = latin_font, weight
        if hanzi:
            font, char_weight = hanzi_font, hanzi_weight(char, hanzi_font, plate_hanzi_weight, config)
        _draw_glyph(canvas, char_ink, char, box, font, condense, char_weight, stroke, flag, radius)
    return canvas
