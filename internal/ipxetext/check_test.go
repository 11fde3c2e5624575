package ipxetext

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		s, want string // want "": accepted
	}{
		{"console=ttyS0 quiet", ""},
		{"x=é $ {x} a;b", ""},
		{"quiet\nshell", "control character U+000A at byte 5"},
		{"a\x7f", "control character U+007F at byte 1"},
		{"a\u0085", "control character U+0085 at byte 1"},
		{"a=\xff", "invalid UTF-8"},
		{"ip=${net0/ip}", `iPXE setting expansion "${" at byte 3`},
		{"é${x}", `iPXE setting expansion "${" at byte 2`},
	} {
		err := Check(c.s)
		if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
			t.Errorf("Check(%q) = %v, want %q", c.s, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "shell") {
			t.Errorf("Check(%q) = %v quotes the value", c.s, err)
		}
	}
}

func TestCheckWord(t *testing.T) {
	if err := CheckWord("http://10.0.0.1:8080"); err != nil {
		t.Error(err)
	}
	if err := CheckWord("web 01"); err == nil || err.Error() != "white space at byte 3" {
		t.Errorf("CheckWord(web 01) = %v", err)
	}
	if err := CheckWord("a\u00a0b"); err == nil || err.Error() != "white space at byte 1" {
		t.Errorf("CheckWord(NBSP) = %v", err)
	}
}

// FuzzCheckText: the ASCII pass of Check says what the Unicode one does.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", "quiet", "a\nb", "${x}", "x${", "$", "{${x}\x7f", "é\u0085", "a\xff", "${x}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, slow := Check(s), checkUnicode(s)
		if (fast == nil) != (slow == nil) || fast != nil && fast.Error() != slow.Error() {
			t.Errorf("Check(%q) = %v, checkUnicode = %v", s, fast, slow)
		}
	})
}
