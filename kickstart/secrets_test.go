package kickstart

import (
	"strings"
	"testing"
)

// The built-ins read the password hashes from the secret settings, and
// still from ordinary settings of the same keys (what earlier versions
// used) when there is no secret one; a secret one wins over an ordinary
// one.
func TestBuiltinsReadPasswordHashesFromSecrets(t *testing.T) {
	s, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const secret, plain = "$6$secret$SECRETHASH", "$6$plain$PLAINHASH"
	for _, b := range Builtins() {
		for _, c := range []struct {
			name              string
			settings, secrets map[string]string
			want, notWant     string
		}{
			{"secret", nil, map[string]string{"root.password-hash": secret, "user.password-hash": secret}, secret, plain},
			{"ordinary", map[string]string{"root.password-hash": plain, "user.password-hash": plain}, nil, plain, secret},
			{"both", map[string]string{"root.password-hash": plain, "user.password-hash": plain},
				map[string]string{"root.password-hash": secret, "user.password-hash": secret}, secret, plain},
		} {
			t.Run(b.Name+"/"+c.name, func(t *testing.T) {
				d := SampleData()
				d.Settings, d.Secrets = c.settings, c.secrets
				if d.Settings == nil {
					d.Settings = map[string]string{}
				}
				d.Settings["user.name"] = "ops" // the preseed makes a user only when named
				out, err := s.Render(b.Name, d)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(out), c.want) || strings.Contains(string(out), c.notWant) {
					t.Errorf("want %s and not %s in:\n%s", c.want, c.notWant, out)
				}
			})
		}
	}
}
