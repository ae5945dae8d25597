"""A tiny PNG rasteriser for the charts of the Word report: lines, rectangles, dots and a 5x7
bitmap font for numbers and dates (titles and Chinese labels go in the document's captions).
Pure Python with zlib; drawn at 2x and scaled in Word for sharper lines."""

from __future__ import annotations

import struct
import zlib

from compliance.charts import Dot, Figure, Line, Rect, Text

# 5x7 glyphs, rows top to bottom, 5 bits each (MSB left)
FONT: dict[str, tuple[int, ...]] = {
    "0": (0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E),
    "1": (0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E),
    "2": (0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F),
    "3": (0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E),
    "4": (0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02),
    "5": (0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E),
    "6": (0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E),
    "7": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08),
    "8": (0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E),
    "9": (0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C),
    ".": (0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C),
    "%": (0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03),
    "-": (0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00),
    ":": (0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00),
    "/": (0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10),
    "L": (0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F),
    "V": (0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04),
    " ": (0, 0, 0, 0, 0, 0, 0),
}


class Canvas:
    """An RGB pixel buffer."""

    def __init__(self, width: int, height: int, scale: int = 2) -> None:
        self.scale = scale
        self.width = width * scale
        self.height = height * scale
        self.pixels = bytearray(b"\xff" * (self.width * self.height * 3))

    def set(self, x: int, y: int, color: tuple[int, int, int]) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i:i + 3] = bytes(color)

    def fill(self, x: float, y: float, w: float, h: float, color: tuple[int, int, int]) -> None:
        s = self.scale
        x0, y0 = max(0, int(round(x * s))), max(0, int(round(y * s)))
        x1, y1 = min(self.width, int(round((x + w) * s))), min(self.height, int(round((y + h) * s)))
        row = bytes(color) * max(0, x1 - x0)
        for yy in range(y0, y1):
            i = (yy * self.width + x0) * 3
            self.pixels[i:i + len(row)] = row

    def disc(self, cx: float, cy: float, r: float, color: tuple[int, int, int]) -> None:
        s = self.scale
        cx, cy, r = cx * s, cy * s, r * s
        for yy in range(int(cy - r), int(cy + r) + 1):
            span = (r * r - (yy - cy) ** 2)
            if span < 0:
                continue
            half = span ** 0.5
            self._block(int(round(cx - half)), yy, int(round(cx + half)) + 1, yy + 1, color)

    def line(self, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int], width: float,
             dash: bool = False) -> None:
        s = self.scale
        half = max(0.5, width * s / 2)
        x0, y0, x1, y1 = x0 * s, y0 * s, x1 * s, y1 * s
        if not dash and (x0 == x1 or y0 == y1):  # axis-aligned: one rectangle
            left, right = min(x0, x1) - (half if x0 == x1 else 0), max(x0, x1) + (half if x0 == x1 else 0)
            top, bottom = min(y0, y1) - (half if y0 == y1 else 0), max(y0, y1) + (half if y0 == y1 else 0)
            self._block(int(round(left)), int(round(top)), int(round(right)) + (1 if x0 == x1 else 0),
                        int(round(bottom)) + (1 if y0 == y1 else 0), color)
            return
        steps = int(max(abs(x1 - x0), abs(y1 - y0), 1.0))
        period = int(6 * s)
        for i in range(steps + 1):
            if dash and (i // period) % 5 >= 3:
                continue
            x = x0 + (x1 - x0) * i / steps
            y = y0 + (y1 - y0) * i / steps
            self._block(int(x - half + 0.5), int(y - half + 0.5), int(x + half + 0.5), int(y + half + 0.5), color)

    def _block(self, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int]) -> None:
        """Fill pixels x0..x1-1, y0..y1-1 (clipped)."""
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(color) * (x1 - x0)
        for yy in range(y0, y1):
            i = (yy * self.width + x0) * 3
            self.pixels[i:i + len(row)] = row

    def text(self, x: float, y: float, text: str, size: float, anchor: str, color: tuple[int, int, int]) -> None:
        glyphs = [FONT[c] for c in text if c in FONT]
        if not glyphs:
            return
        dot = max(1, int(round(size * self.scale / 9)))
        advance = 6 * dot
        total = advance * len(glyphs) - dot
        left = x * self.scale - (total / 2 if anchor == "middle" else total if anchor == "end" else 0)
        top = y * self.scale - 7 * dot
        for n, glyph in enumerate(glyphs):
            for row, bits in enumerate(glyph):
                for col in range(5):
                    if bits & (0x10 >> col):
                        px, py = int(left + n * advance + col * dot), int(top + row * dot)
                        self._block(px, py, px + dot, py + dot, color)

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:(y + 1) * self.width * 3])
                       for y in range(self.height))

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def to_png(fig: Figure, scale: int = 2) -> bytes:
    """The figure as PNG bytes (``scale`` x its size)."""
    canvas = Canvas(fig.width, fig.height, scale)
    for shape in fig.shapes:
        if isinstance(shape, Line):
            for (xa, ya), (xb, yb) in zip(shape.points, shape.points[1:], strict=False):
                canvas.line(xa, ya, xb, yb, shape.color, shape.width, shape.dash)
        elif isinstance(shape, Rect):
            canvas.fill(shape.x, shape.y, shape.w, shape.h, shape.color)
        elif isinstance(shape, Dot):
            canvas.disc(shape.x, shape.y, shape.r, shape.color)
        elif isinstance(shape, Text):
            canvas.text(shape.x, shape.y, shape.ascii if shape.ascii is not None else shape.text, shape.size,
                        shape.anchor, shape.color)
    return canvas.png()
