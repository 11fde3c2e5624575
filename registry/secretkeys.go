package registry

import (
	"maps"
	"slices"
	"strings"
)

// secretWords are what a setting key names when it likely holds a secret.
var secretWords = []string{"password", "passwd", "secret", "token"}

// SecretLike returns the word that makes key look like the name of a
// secret ("db.password": "password"), or "". Settings are published to
// anyone who asks, in DNS and data.cdb, so such a key is refused unless the
// writer says it is public (CheckPublic).
func SecretLike(key string) string {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return w
		}
	}
	return ""
}

// CheckPublic refuses the keys of next that look like secrets and are new
// or changed against old, unless public: what object (e.g. "system web01")
// is named in the error. A key kept as it was passes, so an object that
// already has one can still be edited.
func CheckPublic(object string, old, next map[string]string, public bool) error {
	if public {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(next)) {
		if w := SecretLike(k); w != "" {
			if v, had := old[k]; !had || v != next[k] {
				return invalidf("%s: setting %s looks like a secret (its name has %q), and settings are published to anyone in DNS and data.cdb: give --public if it is not one", object, k, w)
			}
		}
	}
	return nil
}
