"""Rebuild the shipped glyph subsets from freely licensed Debian font packages.

    apt-get install fonts-noto-cjk fonts-noto-cjk-extra fonts-wqy-microhei fonts-droid-fallback \
        fonts-dejavu-core fonts-smiley-sans
    python -m plates.fonts.make_subset

The synthetic generator randomises over several typefaces so that no single font's quirks
become what the model thinks a plate character is (plate lettering is its own typeface, which
no free font reproduces). Only the characters a plate can hold are kept, so the package stays
small and nothing is downloaded at run time. Licences: Noto Sans CJK and Smiley Sans (SIL OFL
1.1, ``OFL.txt``), WenQuanYi Micro Hei and Droid Sans Fallback (Apache-2.0, ``Apache-2.0.txt``),
DejaVu Sans (Bitstream Vera licence, ``DejaVu-LICENSE.txt``); see ``LICENSES.md``."""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from plates.spec import ALNUM, PROVINCES, SPECIALS

#: shipped file -> (Debian source file, index inside a collection or None, Latin only)
DEBIAN = "/usr/share/fonts"
SOURCES: dict[str, tuple[str, int | None, bool]] = {
    "NotoSansSC-Bold-plates.otf": (f"{DEBIAN}/opentype/noto/NotoSansCJK-Bold.ttc", 2, False),
    "NotoSansSC-Regular-plates.otf": (f"{DEBIAN}/opentype/noto/NotoSansCJK-Regular.ttc", 2, False),
    "NotoSansSC-Black-plates.otf": (f"{DEBIAN}/opentype/noto/NotoSansCJK-Black.ttc", 2, False),
    "NotoSansSC-Medium-plates.otf": (f"{DEBIAN}/opentype/noto/NotoSansCJK-Medium.ttc", 2, False),
    "SmileySans-plates.ttf": (f"{DEBIAN}/truetype/smiley-sans/SmileySans-Oblique.ttf", None, False),
    "WenQuanYiMicroHei-plates.ttf": (f"{DEBIAN}/truetype/wqy/wqy-microhei.ttc", 0, False),
    "DroidSansFallback-plates.ttf": (f"{DEBIAN}/truetype/droid/DroidSansFallbackFull.ttf", None, False),
    "DejaVuSansCondensed-Bold-plates.ttf": (f"{DEBIAN}/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", None, True),
    "DejaVuSans-Bold-plates.ttf": (f"{DEBIAN}/truetype/dejavu/DejaVuSans-Bold.ttf", None, True),
}
TEXT = "".join(PROVINCES + SPECIALS + ALNUM) + "IO·-"
LATIN = "".join(ALNUM) + "IO·-"


def main() -> None:
    here = Path(__file__).parent
    for name, (source, index, latin) in SOURCES.items():
        font = TTCollection(source).fonts[index] if index is not None else TTFont(source)
        options = subset.Options()
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=LATIN if latin else TEXT)
        subsetter.subset(font)
        font.save(here / name)
        print(name, (here / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
