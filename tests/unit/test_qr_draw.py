"""guides.qr.draw: both formats from one symbol, the same bytes as drawing each on its own
(what the registry stores must be what the channels always served)."""

from __future__ import annotations

import pytest

from guides.channels import CHANNELS, qr_texts
from guides.qr import draw, qr_png, qr_svg
from guides.urls import Urls


@pytest.mark.parametrize(
    "text", ["http://localhost:8000/g/650100-SGSJ-001", "https://zwfw.example.cn/g/650102-TSQ-001?v=12"]
)
def test_draw_gives_the_bytes_of_each_writer(text):
    code = draw(text)
    assert code.text == text
    assert code.svg == qr_svg.__wrapped__(text)
    assert code.png == qr_png.__wrapped__(text)


def test_channels_declare_the_stable_and_the_printed_address():
    class G:  # what the texts read from a guide
        code = "650100-SGSJ-001"
        version = 3

    urls = Urls("https://zwfw.example.cn")
    assert qr_texts(G, urls) == [
        "https://zwfw.example.cn/g/650100-SGSJ-001?v=3",  # the print page
        "https://zwfw.example.cn/g/650100-SGSJ-001",  # qr.svg and qr.png
    ]
    assert {name for name, c in CHANNELS.items() if c.qr is not None} == {"print", "qr_svg", "qr_png"}
