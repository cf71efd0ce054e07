"""Values a careless or hostile client sends, shared by both providers' tests."""

from __future__ import annotations

# What a client may leave at the end of a value: line breaks of every platform, blanks, NUL,
# the vertical tab and form feed, NEL, a no-break space, the Unicode line separator, an
# ideographic space.
ENDINGS = [
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\x00",
    "\x0b",
    "\x0c",
    "\x85",
    "\xa0",
    "\u2028",
    "\u3000",
]
# Digits that are not ASCII: fullwidth, Arabic-Indic, Devanagari.
FOREIGN_DIGITS = {
    "fullwidth": str.maketrans("0123456789", "０１２３４５６７８９"),
    "arabic-indic": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
    "devanagari": str.maketrans("0123456789", "०१२३४५६७८९"),
}
# Texts XML 1.0 cannot hold as they are (C0 controls, U+FFFE/U+FFFF) or holds only escaped.
XML_HOSTILE = [
    "a\x01b",
    "\x08",
    "esc \x1b[31m",
    "\ufffe\uffff",
    "cr\r\nlf",
    "<&>]]>'\"",
    "del\x7f nel\x85",
    "emoji 🎉",
    "tab\tend",
]
