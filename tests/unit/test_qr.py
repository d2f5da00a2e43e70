"""QR codes: what a phone reads is the guide's stable address, and the bytes never drift."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from guides.qr import PNG_BOX_SIZE, QUIET_ZONE, qr_png, qr_svg
from guides.urls import Urls
from registry.settings import PROJECT_ROOT

URLS = [
    Urls("http://localhost:8000").guide_absolute("650100-SGSJ-001"),
    Urls("https://zwfw.urumqi.gov.cn/").guide_absolute("650102-TSQ-001"),
]
SVG = "{http://www.w3.org/2000/svg}"


def decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    return [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def svg_modules(svg: bytes) -> tuple[int, list[tuple[int, int]]]:
    """The viewBox size and the dark module squares of qrcode's SVG path (`Mx,yHx+1Vy+1Hxz`)."""
    root = ET.fromstring(svg)
    size = int(root.get("viewBox").split()[2])
    path = root.find(f"{SVG}path").get("d")
    squares = [(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H\d+V\d+H\d+z", path)]
    assert len(squares) == path.count("M")  # every sub-path is one module square
    return size, squares


def rasterize(svg: bytes, scale: int = 8) -> Image.Image:
    size, squares = svg_modules(svg)
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in squares:
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_the_stable_address(url):
    image = Image.open(io.BytesIO(qr_png(url)))
    (found,) = decode(image)
    assert found.text == url
    assert found.ec_level in ("M", "Q", "H")


@pytest.mark.parametrize("url", URLS)
def test_svg_decodes_to_the_stable_address(url):
    (found,) = decode(rasterize(qr_svg(url)))
    assert found.text == url
    assert found.ec_level in ("M", "Q", "H")


def test_quiet_zone_is_four_modules():
    url = URLS[0]
    size, squares = svg_modules(qr_svg(url))
    xs = [x for x, _ in squares]
    ys = [y for _, y in squares]
    assert min(xs) == min(ys) == QUIET_ZONE
    assert max(xs) == max(ys) == size - QUIET_ZONE - 1
    image = Image.open(io.BytesIO(qr_png(url))).convert("L")
    margin = QUIET_ZONE * PNG_BOX_SIZE
    width = image.size[0]
    for box in [(0, 0, width, margin), (0, 0, margin, width), (width - margin, 0, width, width)]:
        assert image.crop(box).getextrema() == (255, 255)  # all white
    assert image.getpixel((margin, margin)) == 0  # the finder pattern starts right after it


def test_bytes_are_deterministic_and_depend_only_on_the_url():
    url = URLS[0]
    assert qr_svg(url) == qr_svg.__wrapped__(url)
    assert qr_png(url) == qr_png.__wrapped__(url)
    assert qr_svg(url) != qr_svg(URLS[1])
    # The SVG stands alone (served as image/svg+xml) and can be inlined into a page.
    assert qr_svg(url).startswith(b"<svg ") and b"<script" not in qr_svg(url)


def test_png_needs_no_pillow_at_run_time():
    """Pillow is a test dependency only: make a PNG in a process where PIL cannot be imported."""
    script = (
        "import sys; sys.modules['PIL'] = None\n"
        "from guides.qr import qr_png, qr_svg\n"
        "assert qr_png('http://x/g/1').startswith(b'\\x89PNG') and qr_svg('http://x/g/1')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=PROJECT_ROOT)


@pytest.mark.parametrize("box_size", [1, 3, PNG_BOX_SIZE])
@pytest.mark.parametrize("text", [*URLS, URLS[0] + "?v=12", "https://a.example/" + "x" * 300])
def test_packed_png_writer_gives_qrcode_s_own_bytes(text, box_size):
    """The fast PNG writer packs rows itself; the file must be exactly what qrcode's PyPNG image
    writes pixel by pixel (any padding or colour slip would show here)."""
    import qrcode
    from qrcode.image.pure import PyPNGImage

    from guides.qr import ERROR_CORRECTION

    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=box_size)
    code.add_data(text)
    code.make(fit=True)
    slow = io.BytesIO()
    code.make_image(image_factory=PyPNGImage).save(slow)
    assert qr_png(text, box_size) == slow.getvalue()


@pytest.mark.parametrize("text", [*URLS, URLS[0] + "?v=12", "https://a.example/" + "x" * 300])
def test_fast_svg_writer_gives_qrcode_s_own_bytes(text):
    """The SVG path is written in one pass over the modules; it must be exactly qrcode's own
    SvgPathFillImage document, square by square."""
    import qrcode
    from qrcode.image.svg import SvgPathFillImage

    from guides.qr import ERROR_CORRECTION, SVG_BOX_SIZE

    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=SVG_BOX_SIZE)
    code.add_data(text)
    code.make(fit=True)
    assert qr_svg(text) == code.make_image(image_factory=SvgPathFillImage).to_string()
