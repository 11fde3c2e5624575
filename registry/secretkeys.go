package registry

import (
	"context"
	"maps"
	"slices"
	"strings"
)

// secretWords are what a setting key names when it likely holds a secret.
var secretWords = []string{"password", "passwd", "secret", "token"}

// SecretLike returns the word that makes key look like the name of a
// secret ("db.password": "password"), or "". Settings are published to
// anyone who asks, in DNS and data.cdb, so such a key is refused unless the
// writer says it is public (Public).
func SecretLike(key string) string {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return w
		}
	}
	return ""
}

type publicKey struct{}

// Public returns ctx whose changes may set settings whose keys look like
// secrets (SecretLike): the writer said they hold none (the CLI's
// --public, the API's ?public=1). Without it, AddProfile, EditProfile,
// AddSystem, EditSystem and SetSetting refuse such a key when it is new
// or its value changes. An import is not checked: its document says what
// the registry held, and is taken as it is.
func Public(ctx context.Context) context.Context {
	return context.WithValue(ctx, publicKey{}, true)
}

func isPublic(ctx context.Context) bool { v, _ := ctx.Value(publicKey{}).(bool); return v }

// checkPublic refuses the keys of next that look like secrets and are new
// or changed against old, unless ctx is Public: what object (e.g. "system
// web01") is named in the error. A key kept as it was passes, so an object
// that already has one can still be edited.
func checkPublic(ctx context.Context, object string, old, next map[string]string) error {
	if isPublic(ctx) {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(next)) {
		if w := SecretLike(k); w != "" {
			if v, had := old[k]; !had || v != next[k] {
				return invalidf("%s: setting %s looks like a secret (its name has %q), and settings are published to anyone in DNS and data.cdb: make it a secret setting (--secret, --set-secret), or give --public if it is not one", object, k, w)
			}
		}
	}
	return nil
}
