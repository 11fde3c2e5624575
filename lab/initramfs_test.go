package lab

import "testing"

// The marker's host is read up to the first character no host name has:
// the kernel's console messages can follow it on the same line (seen in
// CI: "host=sbvm[" made TestVMSecureBoot fail).
func TestBootedPattern(t *testing.T) {
	for line, want := range map[string]string{
		"PROVISION-LAB-BOOTED host=sbvm":                                 "sbvm",
		"PROVISION-LAB-BOOTED host=web01.dc1\r":                          "web01.dc1",
		"PROVISION-LAB-BOOTED host=sbvm[    1.234567] random: crng init": "sbvm",
		"PROVISION-LAB-BOOTED host=":                                     "",
		"PROVISION-LAB-BOOTED host= x":                                   "",
	} {
		m := BootedPattern().FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%q: no match", line)
			continue
		}
		if m[1] != want {
			t.Errorf("%q: host %q, want %q", line, m[1], want)
		}
	}
}
