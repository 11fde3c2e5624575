package console

import (
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Booting Linux 6.1\ton ttyS0", "Booting Linux 6.1\ton ttyS0"},
		{"SGR colours", "\x1b[1;31mFAILED\x1b[0m to mount", "FAILED to mount"},
		{"clear and home", "\x1b[2J\x1b[H\x1b[1;1Hmenu", "menu"},
		{"private mode, alternate screen", "\x1b[?1049h\x1b[?25lscreen\x1b[?1049l", "screen"},
		{"cursor moves that rewrite a line", "ok\x1b[2K\x1b[1G\x1b[3Afake", "okfake"},
		{"OSC title, BEL", "a\x1b]0;rm -rf /\x07b", "ab"},
		{"OSC hyperlink, ST", "a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"DCS", "a\x1bP1$r0m\x1b\\b", "ab"},
		{"APC, SOS, PM", "a\x1b_x\x1b\\b\x1bXy\x1b\\c\x1b^z\x1b\\d", "abcd"},
		{"single ESC X", "a\x1bcb\x1b7c\x1b8d\x1bMe", "abcde"},
		{"charset designation", "a\x1b(0lqk\x1b(Bb", "alqkb"},
		{"8-bit CSI", "a\x9b2Jb", "a2Jb"},
		{"C1 as UTF-8", "a\u009b2Jb\u0085c", "a2Jbc"},
		{"unterminated sequence at the end", "a\x1b[31", "a"},
		{"unterminated OSC at the end", "a\x1b]0;title", "a"},
		{"lone ESC", "a\x1b", "a"},
		{"CAN cancels a sequence", "a\x1b[3\x18b", "ab"},
		{"ESC restarts a sequence", "a\x1b[\x1b[31mb\x1b\x1b[mc", "abc"},
		{"OSC 52 clipboard write", "a\x1b]52;c;ZWNobw==\x07b", "ab"},
		{"control characters", "a\x00b\x07c\x08d\x7fe\r\nf\x0cg", "abcdefg"},
		{"tab kept", "\tx\t", "\tx\t"},
		{"invalid UTF-8", "caf\xc3 \xff\xfeok \xed\xa0\x80", "caf ok "},
		{"UTF-8 kept", "Grüße, 日本語 ✓", "Grüße, 日本語 ✓"},
		{"bidi override", "user\u202Egnp.exe\u202C and \u2067x\u2069", "usergnp.exe and x"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Clean([]byte(tc.in))
			if got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzClean: whatever comes in, what comes out is valid UTF-8 without
// ESC or any control character but tab.
func FuzzClean(f *testing.F) {
	f.Add([]byte("\x1b[31mred\x1b]0;t\x07\x9b1m\xff\t"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Clean(b)
		if !utf8.ValidString(s) {
			t.Fatalf("Clean(%q) = %q: invalid UTF-8", b, s)
		}
		for _, r := range s {
			if r != '\t' && (r < 0x20 || r >= 0x7f && r < 0xa0) {
				t.Fatalf("Clean(%q) = %q: control character %U", b, s, r)
			}
		}
	})
}
