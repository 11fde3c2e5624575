package console

import (
	"strings"
	"testing"
)

// TestTextRedactsBootTokens: a build's and an inspection's tokens, as a
// kernel prints its command line, are not shown; the rest is.
func TestTextRedactsBootTokens(t *testing.T) {
	const tok = "9069ed455974fa81d7afeae07d0ac0bd"
	in := "[    0.000000] Kernel command line: console=ttyS0 provision.ks=http://10.0.0.1/ks/" + tok +
		" url=http://10.0.0.1/ks/" + tok + "/ provision.inspect=" + tok + " \x1b[1mbold\x1b[0m /ks/abc"
	got := Text([]byte(in))
	if strings.Contains(got, tok) || strings.Contains(got, "\x1b") {
		t.Fatalf("Text = %q", got)
	}
	want := "[    0.000000] Kernel command line: console=ttyS0 provision.ks=http://10.0.0.1/ks/BUILD-TOKEN" +
		" url=http://10.0.0.1/ks/BUILD-TOKEN/ provision.inspect=BUILD-TOKEN bold /ks/abc"
	if got != want {
		t.Fatalf("Text =\n%q\nwant\n%q", got, want)
	}
}
