"""QR codes for a guide's stable address (`{public URL}/g/{code}`, never a version or an id).

The bytes depend only on the URL: the same code prints the same QR code before and after the guide
changes, so paper, stickers and screens never need reprinting. Error correction M (15 % of the
symbol may be damaged), a quiet zone of 4 modules as the standard asks, and pure-Python writers:
qrcode's SVG path image and its PyPNG image (no Pillow at run time), the latter handing PyPNG
packed rows (`PackedPNGImage`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathFillImage

ERROR_CORRECTION = ERROR_CORRECT_M
QUIET_ZONE = 4  # modules of white around the symbol (ISO/IEC 18004 asks for 4)
SVG_BOX_SIZE = 10  # qrcode's SVG unit: 10 = 1 mm per module
PNG_BOX_SIZE = 8  # pixels per module


class PackedPNGImage(PyPNGImage):
    """qrcode's PyPNG image, writing packed rows: the same PNG bytes, ≈ 20× faster (qrcode hands
    PyPNG one Python int per pixel, ≈ 6 ms a code; here each module row is packed once)."""

    def save(self, stream, kind=None) -> None:
        box, border = self.box_size, self.border
        white = "1" * box

        def packed(light: list[bool]) -> bytes:
            bits = "".join(white if v else "0" * box for v in light)
            bits += "0" * (-len(bits) % 8)  # pad the last byte with zero bits, as PyPNG does
            return int(bits, 2).to_bytes(len(bits) // 8, "big")

        quiet = [True] * border
        blank = packed([True] * (self.width + 2 * border))
        rows = [blank] * (border * box)
        for module_row in self.modules:
            row = packed(quiet + [not dark for dark in module_row] + quiet)
            rows.extend([row] * box)
        rows.extend([blank] * (border * box))
        self._img.write_packed(stream, rows)


class FastSvgPathImage(SvgPathFillImage):
    """qrcode's SVG path image (white background), its path written in one pass over the
    modules: the same bytes, ≈ 4× faster (qrcode computes each module's square with Decimal
    arithmetic, ≈ 2 ms a code)."""

    needs_drawrect = False

    def process(self) -> None:
        border, box = self.border, self.box_size
        # Every corner lies on the module grid: its coordinates as qrcode's drawer writes them.
        at = [str(self.units(i * box, text=False)) for i in range(self.width + 2 * border + 1)]
        self._subpaths = [
            f"M{at[c]},{at[r]}H{at[c + 1]}V{at[r + 1]}H{at[c]}z"
            for r, row in enumerate(self.modules, start=border)
            for c, dark in enumerate(row, start=border)
            if dark
        ]
        super().process()


def _image(url: str, factory: type, box_size: int):
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE,
        box_size=box_size,
        image_factory=factory,
    )
    code.add_data(url)
    code.make(fit=True)
    return code.make_image()


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> bytes:
    """A standalone SVG document (one path of module squares on a white background)."""
    # SvgPathFillImage is SvgPathImage plus a white background, so the quiet zone stays white on
    # a dark page or a dark-mode image viewer.
    return _image(url, FastSvgPathImage, SVG_BOX_SIZE).to_string()


@lru_cache(maxsize=4096)
def qr_png(url: str, box_size: int = PNG_BOX_SIZE) -> bytes:
    """A 1-bit greyscale PNG, `box_size` pixels per module."""
    out = io.BytesIO()
    _image(url, PackedPNGImage, box_size).save(out)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class QrCode:
    """The QR code of one text in both formats: what the registry stores, keyed by `text`."""

    text: str
    svg: bytes
    png: bytes


# Where a renderer gets the QR code of a text: `draw` here, the registry's stored codes there.
QrSource = Callable[[str], QrCode]


def draw(text: str) -> QrCode:
    """Draw both formats from one symbol (the same bytes as `qr_svg` and `qr_png`). ≈ 7 ms of
    pure Python on an idle core (choosing the mask ≈ 4 ms, the SVG path ≈ 2 ms): the registry
    draws each text once and stores the bytes (registry.qrcodes)."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE,
        box_size=SVG_BOX_SIZE,
        image_factory=FastSvgPathImage,
    )
    code.add_data(text)
    code.make(fit=True)  # the symbol and its mask: computed once for both images
    svg = code.make_image().to_string()
    code.box_size = PNG_BOX_SIZE
    out = io.BytesIO()
    code.make_image(image_factory=PackedPNGImage).save(out)
    return QrCode(text, svg, out.getvalue())


def inline_svg(svg: bytes) -> str:
    """An SVG document as an element for an HTML page (class `qr`, hidden from screen readers:
    the address is printed beside it)."""
    return svg.decode("utf-8").replace("<svg ", '<svg class="qr" role="img" aria-hidden="true" ', 1)
