"""Template tags of the PDF templates."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from registrar.documents.glyphs import glyph_svg

register = template.Library()


@register.simple_tag
def seal_char(c: dict, size: float, fill: str = "#d0021b"):
    """One character of a seal's legend (``{"ch", "x", "y", "rot"}`` from a seal's geometry) as an
    outline, so the seal is a drawing, not text; as SVG text when the font has no outline for it."""
    svg = glyph_svg(c["ch"], x=float(c["x"]), y=float(c["y"]), size=float(size), rotate=float(c["rot"]), fill=fill)
    if svg is not None:
        return mark_safe(svg)
    return format_html(
        '<text x="{x}" y="{y}" font-family="Noto Serif CJK SC" font-weight="bold" font-size="{size}" fill="{fill}" '
        'text-anchor="middle" dominant-baseline="central" transform="rotate({rot} {x} {y})">{ch}</text>',
        x=c["x"],
        y=c["y"],
        size=size,
        fill=fill,
        rot=c["rot"],
        ch=c["ch"],
    )
