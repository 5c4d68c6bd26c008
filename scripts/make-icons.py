#!/usr/bin/env python3
"""Draw the app and tray icons into icons/: two overlapping heads — people, present.

PNGs (RGBA) for Linux, macOS and the tray; icon.ico for Windows (the executable's resource and
the window icon), holding 16–256 px: uncompressed 32-bit bitmaps up to 64 px, which every
Windows shell reads, and PNG above, as Windows has read since Vista.

Run again after changing a colour; the icons are committed. Only the standard library is used.
"""
import math
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "icons")

# (front head colour, back head colour, badge colour or None)
STATES = {
    "idle": ((0x8A, 0x94, 0xA6), (0xC4, 0xCA, 0xD4), None),
    "active": ((0x1F, 0x9D, 0x55), (0x7F, 0xD1, 0xA0), None),
    "offline": ((0xA0, 0xA0, 0xA0), (0xD0, 0xD0, 0xD0), (0x70, 0x70, 0x70)),
    "error": ((0x8A, 0x94, 0xA6), (0xC4, 0xCA, 0xD4), (0xD9, 0x30, 0x25)),
}
APP = ((0x25, 0x63, 0xEB), (0x93, 0xB4, 0xF5), None)


def coverage(d):
    """Anti-aliased inside-ness for a signed distance d (negative inside)."""
    return max(0.0, min(1.0, 0.5 - d))


def pixels(size, colours):
    """The icon at `size` px as rows of straight-alpha RGBA bytes, top row first."""
    front, back, badge = colours
    s = size / 32.0
    shapes = [
        # back person: head and shoulders, offset to the right
        (back, lambda x, y: math.hypot(x - 20.5 * s, y - 10 * s) - 5 * s),
        (back, lambda x, y: max(math.hypot(x - 20.5 * s, y - 27 * s) - 9 * s, 18.5 * s - y)),
        # front person
        (front, lambda x, y: math.hypot(x - 12.5 * s, y - 12 * s) - 6 * s),
        (front, lambda x, y: max(math.hypot(x - 12.5 * s, y - 31 * s) - 10.5 * s, 20.5 * s - y)),
    ]
    if badge:
        shapes.append(((255, 255, 255), lambda x, y: math.hypot(x - 25 * s, y - 25 * s) - 7 * s))
        shapes.append((badge, lambda x, y: math.hypot(x - 25 * s, y - 25 * s) - 5.5 * s))
    rows = []
    for j in range(size):
        row = bytearray()
        for i in range(size):
            x, y = i + 0.5, j + 0.5
            r = g = b = a = 0.0
            for colour, dist in shapes:
                c = coverage(dist(x, y))
                if c > 0:
                    # "over" compositing, straight alpha
                    na = c + a * (1 - c)
                    if na > 0:
                        r = (colour[0] * c + r * a * (1 - c)) / na
                        g = (colour[1] * c + g * a * (1 - c)) / na
                        b = (colour[2] * c + b * a * (1 - c)) / na
                    a = na
            row += bytes([int(r), int(g), int(b), int(a * 255)])
        rows.append(bytes(row))
    return rows


def draw(size, colours):
    return png(size, size, b"".join(b"\0" + row for row in pixels(size, colours)))


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def dib(size, rows):
    """An ICO entry as a device-independent bitmap: the header (with the height doubled for the
    mask), BGRA rows bottom-up, then the 1-bit AND mask (all zero: the alpha channel decides)."""
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    colour = b"".join(
        bytes(b for i in range(0, len(row), 4) for b in (row[i + 2], row[i + 1], row[i], row[i + 3]))
        for row in reversed(rows)
    )
    mask_row = ((size + 31) // 32) * 4
    return header + colour + bytes(mask_row * size)


def ico(colours, sizes):
    """A Windows icon file with one image per size."""
    images = []
    for size in sizes:
        if size <= 64:
            images.append((size, dib(size, pixels(size, colours))))
        else:
            images.append((size, draw(size, colours)))
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for size, data in images:
        side = 0 if size >= 256 else size
        out += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(data for _, data in images)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for state, colours in STATES.items():
        write(f"tray-{state}.png", draw(64, colours))
    for size in (32, 128, 256):
        write(f"{size}x{size}.png", draw(size, APP))
    write("128x128@2x.png", draw(256, APP))
    write("icon.png", draw(512, APP))
    write("icon.ico", ico(APP, (16, 24, 32, 48, 64, 128, 256)))
