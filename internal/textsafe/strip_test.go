package textsafe

import "testing"

func TestStrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff"},
		{"", ""},
		{"pxelinux.cfg/\x1b[2J01-aa", "pxelinux.cfg/[2J01-aa"},
		{"\x1b]0;owned\x07title", "]0;ownedtitle"},
		{"host\r\nname\ttab\x00nul\x7fdel", "hostnametabnuldel"},
		{"c1 csi \u009b31m", "c1 csi 31m"},
		{"raw csi \x9b31m", "raw csi \uFFFD31m"},
		{"héllo wörld ✓", "héllo wörld ✓"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		if got := Strip(tt.in); got != tt.want {
			t.Errorf("Strip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
