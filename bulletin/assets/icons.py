"""App icons, all made from the one source image ``static/icons/source.png``.

The source is a full-bleed square whose drawing sits inside the central 80%
circle, so the same picture serves as the maskable icon (launchers crop it
to their own shape) and, with rounded corners, as the ordinary one.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from bulletin.assets.files import write_if_changed
from bulletin.config import ROOT

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


def _save(image: Image.Image, path: Path, **options) -> Path:
    buffer = io.BytesIO()
    image.save(buffer, format=path.suffix[1:].upper(), **options)
    write_if_changed(path, buffer.getvalue())
    return path


def build_icons() -> list[Path]:
    """Write every icon from the source image; return their paths."""
    source = Image.open(SOURCE).convert("RGBA")
    written = []
    for name, (size, rounded) in PNG_ICONS.items():
        icon = _resized(source, size)
        written.append(_save(_rounded(icon) if rounded else icon, ICON_DIR / name, optimize=True))
    # iOS ignores transparency and rounds corners itself: a full square.
    written.append(
        _save(_resized(source, 180).convert("RGB"), ROOT_DIR / "apple-touch-icon.png", optimize=True)
    )
    # One 32 px image, as the page's link says (sizes="32x32"): browsers scale
    # it for tabs; 16 and 48 px images too cost every first visit 1.4 KB.
    favicon = _rounded(_resized(source, 32))
    written.append(_save(favicon, ROOT_DIR / "favicon.ico", sizes=[(32, 32)]))
    return written
