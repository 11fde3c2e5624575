package macaddr

import "testing"

func TestParse(t *testing.T) {
	for _, s := range []string{"aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "AABBCCDDEEFF", " aa:bb:cc:dd:ee:ff "} {
		hw, err := Parse(s)
		if err != nil || hw.String() != "aa:bb:cc:dd:ee:ff" {
			t.Errorf("%q: %v %v", s, hw, err)
		}
	}
	for _, s := range []string{"", "aa:bb:cc", "aabbccddeeffgg", "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", "zz:bb:cc:dd:ee:ff"} {
		if hw, err := Parse(s); err == nil {
			t.Errorf("%q parsed as %v", s, hw)
		}
	}
}
