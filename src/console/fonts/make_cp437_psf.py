#!/usr/bin/env python3
"""make_cp437_psf.py - build the console's code page 437 PSF font from a Unicode BDF font.

Usage: make_cp437_psf.py SOURCE.bdf OUTPUT.psf

Writes a PSF version 1 file (no Unicode table) holding 256 glyphs of 8x16 pixels in code
page 437 order. Every glyph is taken from SOURCE through the Unicode character that IBM's
code page 437 shows at that code (the graphic meanings of 0x01-0x1F and 0x7F). Code 0x00 is
drawn blank, as on the VGA, rather than as the source's missing-glyph box. See README.md
beside this script for the source font and its licence.
"""

import re
import sys

GLYPH_WIDTH_PIXELS = 8
GLYPH_HEIGHT_PIXELS = 16
PSF1_MAGIC = b"\x36\x04"
PSF1_MODE_256_GLYPHS_NO_TABLE = 0

# The character each code page 437 code shows, code 0x00 to 0xFF.
CODE_PAGE_437 = (
    "\u0000☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼"
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
    "abcdefghijklmnopqrstuvwxyz{|}~⌂"
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»"
    "░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀"
    "αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0"
)
assert len(CODE_PAGE_437) == 256


def read_bdf_glyphs(text):
    """Maps each encoded code point of a BDF font to its 16 rows, one byte per row."""
    glyphs = {}
    pattern = re.compile(
        r"ENCODING (-?\d+)\n.*?BBX (-?\d+) (-?\d+) (-?\d+) (-?\d+)\nBITMAP\n(.*?)ENDCHAR", re.S
    )
    for match in pattern.finditer(text):
        code_point = int(match.group(1))
        box = tuple(int(value) for value in match.group(2, 3, 4, 5))
        rows = [int(row, 16) for row in match.group(6).split()]
        # Every glyph of an 8x16 cell font fills the whole cell: 8 wide, 16 high, baseline 4
        # rows above the bottom.
        if box != (GLYPH_WIDTH_PIXELS, GLYPH_HEIGHT_PIXELS, 0, -4) or len(rows) != 16:
            raise SystemExit(f"U+{code_point:04X}: glyph box {box} is not a full 8x16 cell")
        glyphs[code_point] = bytes(rows)
    return glyphs


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="ascii", errors="replace") as source:
        glyphs = read_bdf_glyphs(source.read())
    missing = [
        f"0x{code:02X} (U+{ord(character):04X})"
        for code, character in enumerate(CODE_PAGE_437)
        if code != 0 and ord(character) not in glyphs
    ]
    if missing:
        raise SystemExit("the source font has no glyph for " + ", ".join(missing))
    blank = bytes(GLYPH_HEIGHT_PIXELS)
    table = b"".join(
        blank if code == 0 else glyphs[ord(character)]
        for code, character in enumerate(CODE_PAGE_437)
    )
    header = PSF1_MAGIC + bytes([PSF1_MODE_256_GLYPHS_NO_TABLE, GLYPH_HEIGHT_PIXELS])
    with open(sys.argv[2], "wb") as output:
        output.write(header + table)


if __name__ == "__main__":
    main()
