"""Rebuild the shipped glyph subsets from Debian's ``fonts-noto-cjk`` (OFL-1.1).

    apt-get install fonts-noto-cjk && python -m plates.fonts.make_subset

Only the characters a plate can hold are kept, so the package stays small and nothing is
downloaded at run time."""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

from plates.spec import ALNUM, PROVINCES, SPECIALS

SOURCES = {
    "NotoSansSC-Bold-plates.otf": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "NotoSansSC-Regular-plates.otf": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
}
SC_INDEX = 2  # "Noto Sans CJK SC" inside the collection
TEXT = "".join(PROVINCES + SPECIALS + ALNUM) + "IO·-"


def main() -> None:
    here = Path(__file__).parent
    for name, source in SOURCES.items():
        font = TTCollection(source).fonts[SC_INDEX]
        options = subset.Options()
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=TEXT)
        subsetter.subset(font)
        font.save(here / name)
        print(name, (here / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
