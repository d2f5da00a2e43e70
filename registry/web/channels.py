"""Guide channels beyond the online hall: print, QR codes, JSON and Markdown (issue 4)."""

from __future__ import annotations

from litestar import Controller


class ChannelController(Controller):
    include_in_schema = False
