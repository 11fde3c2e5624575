package console

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// Clean returns b as text that is safe to store in history and show:
// ANSI/VT escape sequences (CSI, OSC, DCS, SOS, PM, APC and the
// two-byte ESC X), every other control character but tab (C0, DEL, C1),
// the bidirectional overrides that reorder what is shown (U+202A-U+202E,
// U+2066-U+2069) and invalid UTF-8 are removed. The sequences are parsed
// by charmbracelet/x/ansi (ECMA-48); an unterminated one at the end is
// dropped.
func Clean(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	return strings.Map(keepRune, ansi.Strip(s))
}

// keepRune drops control characters but tab and the bidi controls.
func keepRune(r rune) rune {
	switch {
	case r == '\t':
		return r
	case unicode.IsControl(r), isBidiControl(r):
		return -1
	}
	return r
}

// isBidiControl reports the embedding, override and isolate controls
// (Unicode's Bidi_Control less the marks LRM, RLM and ALM, which only
// steer neutral characters).
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}
