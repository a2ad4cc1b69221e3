"""Characters as outlines, for drawings that must not be text: a seal is an image of the stamp,
so its legend is drawn as SVG paths (no text layer: it is not searched, copied or read aloud, and
an English transcript bearing the Chinese seal has no Chinese text).

The outlines come from the document font (``REGISTRAR["DOCUMENT_FONT"]``, located with
fontconfig's ``fc-match``) through fontTools, which WeasyPrint installs. Without the font, or
for a character it lacks, ``glyph_path`` returns None and the caller draws text instead.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from django.conf import settings


@functools.cache
def _font(bold: bool):
    """(glyph set, cmap, units per em, vertical centre in font units) of the document font, or None."""
    fc_match = shutil.which("fc-match")
    if not fc_match:
        return None
    family = settings.REGISTRAR.get("DOCUMENT_FONT", "Noto Serif CJK SC")
    pattern = f"{family}:weight={'bold' if bold else 'regular'}"
    try:
        out = subprocess.run(
            [fc_match, "-f", "%{file}\n%{index}", pattern], capture_output=True, text=True, timeout=10, check=True
        ).stdout.split("\n")
        from fontTools.ttLib import TTFont

        font = TTFont(out[0], fontNumber=int(out[1] or 0), lazy=True)
        os2 = font["OS/2"]  # the typographic ascender/descender bound the (ideographic) em box
        return (
            font.getGlyphSet(),
            font.getBestCmap(),
            font["head"].unitsPerEm,
            (os2.sTypoAscender + os2.sTypoDescender) / 2,
        )
    except Exception:  # noqa: BLE001 - no usable font: callers fall back to text
        return None


@functools.cache
def glyph_path(ch: str, *, bold: bool = True) -> tuple[str, float, float, float] | None:
    """(SVG path data in font units, y-up; advance width; units per em; vertical centre) of ``ch``."""
    from fontTools.pens.svgPathPen import SVGPathPen

    font = _font(bold)
    if font is None:
        return None
    glyphs, cmap, upm, centre = font
    name = cmap.get(ord(ch))
    if name is None:
        return None
    pen = SVGPathPen(glyphs)
    glyph = glyphs[name]
    glyph.draw(pen)
    return pen.getCommands(), glyph.width, upm, centre


def glyph_svg(
    ch: str, *, x: float, y: float, size: float, rotate: float = 0.0, fill: str = "#000", bold: bool = True
) -> str | None:
    """An SVG ``<path>`` drawing ``ch`` ``size`` units tall, centred on (x, y), turned by ``rotate``
    degrees; None when the font has no outline for it."""
    glyph = glyph_path(ch, bold=bold)
    if glyph is None:
        return None
    d, advance, upm, centre = glyph
    scale = size / upm
    # font units are y-up with the baseline at 0: flip, and move the glyph's centre to the origin
    transform = (
        f"translate({x:.2f} {y:.2f}) rotate({rotate:.2f}) scale({scale:.5f} {-scale:.5f}) "
        f"translate({-advance / 2:.1f} {-centre:.1f})"
    )
    return f'<path d="{d}" transform="{transform}" fill="{fill}"/>'
