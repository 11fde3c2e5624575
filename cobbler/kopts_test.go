package cobbler

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func jsonValue(t *testing.T, text string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Kernel options, dictionaries or strings, blended down a chain and
// rendered keys first in alphabetical order.
func TestKernelOptions(t *testing.T) {
	for _, c := range []struct {
		name  string
		chain []string // JSON values, the distro's (or a system's own) first
		want  string
		lost  []string
	}{
		{"dict", []string{`{"console": "ttyS0", "quiet": null, "vga": 791}`}, "console=ttyS0 quiet vga=791", nil},
		{"string", []string{`"quiet console=tty0 console=ttyS0 'title=a'"`}, "console=tty0 console=ttyS0 quiet title=a", nil},
		{"list values", []string{`{"console": ["tty0", "ttyS0,115200n8"]}`}, "console=tty0 console=ttyS0,115200n8", nil},
		{"inherit and unset", []string{`"<<inherit>>"`, `"~"`, `""`, `{}`}, "", nil},
		{"child replaces", []string{`{"console": "tty0", "biosdevname": "0"}`, `{"console": "ttyS1"}`}, "biosdevname=0 console=ttyS1", nil},
		{"removal", []string{`{"biosdevname": "0", "quiet": null}`, `{"!biosdevname": null}`}, "quiet", nil},
		{"removal of nothing", []string{`{"!quiet": null}`}, "", []string{"kernel option !quiet (a removal of an inherited option: provision appends a system's arguments to its profile's)"}},
		{"provision's own", []string{`{"ks": "http://cobbler/ks", "inst.ks": "x", "ip": "dhcp"}`}, "ip=dhcp", []string{
			"kernel option inst.ks=x (provision points the installer at its template itself)",
			"kernel option ks=http://cobbler/ks (provision points the installer at its template itself)"}},
		{"spaces", []string{`{"title": "a b", "ro": null}`}, "ro", []string{`kernel option title="a b" (a value with spaces or quotes)`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := parseOptions(jsonValue(t, c.chain[0])) // a system's own, rendered as they are
			for _, v := range c.chain[1:] {
				o = blend(o, parseOptions(jsonValue(t, v)))
			}
			args, lost := o.render()
			if args != c.want || !cmp.Equal(lost, c.lost) {
				t.Errorf("render: %q, lost %q; want %q, %q", args, lost, c.want, c.lost)
			}
		})
	}
}
