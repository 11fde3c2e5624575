package human

import (
	"strings"
	"testing"
)

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1.0KiB", 1536: "1.5KiB", 5 << 30: "5.0GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 bytes", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 2 << 30: "2.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// The name comes first, JSON's quotes go, and a size gets its human form.
func TestYAML(t *testing.T) {
	var b strings.Builder
	err := YAML(&b, []byte(`{"kind":"diskless","name":"lvs","files":{"rootfs":{"sha256":"ab","size":53583449}},"macs":["aa:bb"]}`))
	want := "name: lvs\nkind: diskless\nfiles:\n  rootfs:\n    sha256: ab\n    size: 53583449 # 51.1MiB\nmacs:\n  - aa:bb\n"
	if err != nil || b.String() != want {
		t.Errorf("YAML = %v\n%s\nwant\n%s", err, b.String(), want)
	}
	if err := YAML(&b, []byte(`{"a":`)); err == nil {
		t.Error("YAML of broken JSON: no error")
	}
}
