package registry

import (
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/provision/provision/internal/macaddr"
)

// MaxValueLen is the largest setting value, in bytes: what a DNS message
// can carry as one TXT record with the rest of the answer (dnsconf's
// MaxTXTValue), so that every stored value is also served.
const MaxValueLen = 64000

// maxKeyLen keeps KEY.NAME._host.ZONE within the 255-byte DNS name limit
// for names and zones of ordinary length.
const maxKeyLen = 128

var (
	labelRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	objectRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`)
	keyRE    = regexp.MustCompile(`^[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?$`)
)

// CheckSystemName: a system name becomes a DNS label (NAME.zone,
// KEY.NAME._host.zone), so it must be one.
func CheckSystemName(name string) error {
	if !labelRE.MatchString(name) {
		return invalidf("system name %q: must be a DNS label (lowercase letters, digits and '-', at most 63)", name)
	}
	return nil
}

// CheckObjectName validates subnet, image and profile names.
func CheckObjectName(kind, name string) error {
	if !objectRE.MatchString(name) {
		return invalidf("%s name %q: use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)", kind, name)
	}
	return nil
}

// CheckSiteName checks the name of a site (`serve --site`, a subnet's
// site): an object name.
func CheckSiteName(site string) error {
	if !objectRE.MatchString(site) {
		return invalidf("site %q: use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)", site)
	}
	return nil
}

// CanonicalHostname lowercases a fully qualified host name and checks that
// it is a valid DNS name.
func CanonicalHostname(h string) (string, error) {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "" || len(h) > 253 {
		return "", invalidf("hostname %q: must be a DNS name of 1 to 253 characters", h)
	}
	for _, l := range strings.Split(h, ".") {
		if !labelRE.MatchString(l) {
			return "", invalidf("hostname %q: label %q is not a DNS label", h, l)
		}
	}
	return h, nil
}

// CanonicalMAC parses a MAC address in any common spelling
// (aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff, aabbccddeeff) and
// returns it as lowercase colon-separated text.
func CanonicalMAC(s string) (string, error) {
	hw, err := ParseMAC(s)
	if err != nil {
		return "", err
	}
	return hw.String(), nil
}

// ParseMAC is CanonicalMAC returning the address. Only 48-bit MACs are
// accepted.
func ParseMAC(s string) (net.HardwareAddr, error) {
	hw, err := macaddr.Parse(s)
	if err != nil {
		return nil, invalidf("mac %q: not a 48-bit MAC address", s)
	}
	return hw, nil
}

// CanonicalIPv4 parses an IPv4 address and returns its canonical text.
func CanonicalIPv4(what, s string) (string, error) {
	a, err := parseIPv4(what, s)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

func parseIPv4(what, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || !a.Is4() {
		return netip.Addr{}, invalidf("%s %q: not an IPv4 address", what, s)
	}
	return a, nil
}

// CheckSettingKey: keys are dot-separated DNS labels, because they become
// TXT record names. Keys are case-insensitive and stored lowercase.
func CheckSettingKey(key string) (string, error) {
	k := strings.ToLower(key)
	if k == "" || len(k) > maxKeyLen {
		return "", invalidf("setting key %q: must be 1 to %d characters", key, maxKeyLen)
	}
	for _, l := range strings.Split(k, ".") {
		if !keyRE.MatchString(l) {
			return "", invalidf("setting key %q: %q is not a DNS label (letters, digits, '-', '_')", key, l)
		}
		if l == "_host" { // KEY.HOST._host.ZONE are the hosts' own settings
			return "", invalidf("setting key %q: the label _host is reserved (hosts' own settings are published under it)", key)
		}
	}
	return k, nil
}

// CheckSettingValue bounds a value's size.
func CheckSettingValue(key, v string) error {
	if len(v) > MaxValueLen {
		return invalidf("setting %s: value is %d bytes, the limit is %d (what one DNS answer carries)", key, len(v), MaxValueLen)
	}
	return nil
}

func canonicalSettings(m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		ck, err := CheckSettingKey(k)
		if err != nil {
			return nil, err
		}
		if err := CheckSettingValue(ck, v); err != nil {
			return nil, err
		}
		out[ck] = v
	}
	return out, nil
}
