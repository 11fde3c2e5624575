package human

import "testing"

func TestParseMiB(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512": 512, "512M": 512, "2G": 2048, "2g": 2048, "2GiB": 2048, "1T": 1 << 20, "3tib": 3 << 20, " 4G ": 4096} {
		if got, err := ParseMiB(in); err != nil || got != want {
			t.Errorf("ParseMiB(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "G", "1.5G", "-1G", "2K", "2GB", "lots", "9999999999999999T"} {
		if got, err := ParseMiB(bad); err == nil {
			t.Errorf("ParseMiB(%q) = %d, want an error", bad, got)
		}
	}
}
