"""App icons, all made from the one source image ``static/icons/source.png``.

The source is a full-bleed square whose drawing sits inside the central 80%
circle, so the same picture serves as the maskable icon (launchers crop it
to their own shape) and, with rounded corners, as the ordinary one.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from . import ROOT

SOURCE = ROOT / "static" / "icons" / "source.png"
ICON_DIR = ROOT / "static" / "icons"
ROOT_DIR = ROOT / "static" / "root"

# name -> (size, rounded corners)
PNG_ICONS = {
    "icon-192.png": (192, True),
    "icon-512.png": (512, True),
    "icon-maskable-512.png": (512, False),
}


def _rounded(image: Image.Image) -> Image.Image:
    mask = Image.new("L", image.size, 0)
    radius = image.size[0] * 18 // 100
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, *image.size], radius=radius, fill=255)
    result = image.copy()
    result.putalpha(mask)
    return result


def _resized(source: Image.Image, size: int) -> Image.Image:
    return source.resize((size, size), Image.Resampling.LANCZOS)


def build_icons() -> list[Path]:
    """Write every icon from the source image; return the paths written."""
    source = Image.open(SOURCE).convert("RGBA")
    written = []
    for name, (size, rounded) in PNG_ICONS.items():
        icon = _resized(source, size)
        path = ICON_DIR / name
        (_rounded(icon) if rounded else icon).save(path, optimize=True)
        written.append(path)
    # iOS ignores transparency and rounds corners itself: a full square.
    apple = ROOT_DIR / "apple-touch-icon.png"
    _resized(source, 180).convert("RGB").save(apple, optimize=True)
    favicon = ROOT_DIR / "favicon.ico"
    _rounded(_resized(source, 48)).save(favicon, sizes=[(16, 16), (32, 32), (48, 48)])
    return written + [apple, favicon]
