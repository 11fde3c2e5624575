package registry

import (
	"context"
	"errors"
	"testing"
)

// A setting whose key looks like a secret is written only when the
// writer says it is public; one kept as it was needs nothing.
func TestSecretSettingsNeedPublic(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	pub := Public(ctx)
	const tail = ", and settings are published to anyone in DNS and data.cdb: make it a secret setting (--secret, --set-secret), or give --public if it is not one"
	withSettings := func(name string, m map[string]string) System {
		s := sys(name, "aa:bb:cc:dd:ee:0"+name[len(name)-1:], "10.0.0.1"+name[len(name)-1:])
		s.Settings = m
		return s
	}
	must(t, func() error { _, err := r.SetSetting(pub, "db.password", "none"); return err })
	must(t, func() error {
		_, err := r.AddSystem(pub, withSettings("web001", map[string]string{"vpn.passwd": "x", "role": "web"}))
		return err
	})
	for _, tt := range []struct {
		name  string
		write func(ctx context.Context) error
		want  string // "": written
	}{
		{"global", func(ctx context.Context) error { _, err := r.SetSetting(ctx, "API_TOKEN", "x"); return err },
			`global: setting API_TOKEN looks like a secret (its name has "token")` + tail},
		{"global kept", func(ctx context.Context) error { _, err := r.SetSetting(ctx, "db.password", "none"); return err }, ""},
		{"global changed", func(ctx context.Context) error { _, err := r.SetSetting(ctx, "db.password", "hunter2"); return err },
			`global: setting db.password looks like a secret (its name has "password")` + tail},
		{"profile add", func(ctx context.Context) error {
			_, err := r.AddProfile(ctx, Profile{Name: "p2", Image: "centos", Settings: map[string]string{"ldap.secret": "x"}})
			return err
		}, `profile p2: setting ldap.secret looks like a secret (its name has "secret")` + tail},
		{"profile edit", func(ctx context.Context) error {
			_, err := r.EditProfile(ctx, "db", Profile{Name: "db", Image: "centos", Settings: map[string]string{"token.bucket.size": "10"}})
			return err
		}, `profile db: setting token.bucket.size looks like a secret (its name has "token")` + tail},
		{"system add", func(ctx context.Context) error {
			_, err := r.AddSystem(ctx, withSettings("web009", map[string]string{"vpn.passwd": "x"}))
			return err
		}, `system web009: setting vpn.passwd looks like a secret (its name has "passwd")` + tail},
		{"system edit kept", func(ctx context.Context) error {
			_, err := r.EditSystem(ctx, "web001", withSettings("web001", map[string]string{"vpn.passwd": "x", "role": "db"}))
			return err
		}, ""},
		{"system edit changed", func(ctx context.Context) error {
			_, err := r.EditSystem(ctx, "web001", withSettings("web001", map[string]string{"vpn.passwd": "y"}))
			return err
		}, `system web001: setting vpn.passwd looks like a secret (its name has "passwd")` + tail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			serial := r.Snapshot().Serial
			err := tt.write(ctx)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
			if r.Snapshot().Serial != serial {
				t.Errorf("something was written")
			}
			if err := tt.write(pub); err != nil {
				t.Errorf("public: %v", err)
			}
		})
	}
	back := reopen(t, path).Snapshot()
	if v, _ := back.Setting("api_token"); v != "x" {
		t.Errorf("api_token = %q", v)
	}
	if s, _ := back.SystemByName("web001"); s.Settings["vpn.passwd"] != "y" {
		t.Errorf("web001's settings: %v", s.Settings)
	}
	// An import takes its document as it is.
	if _, err := r.Import(ctx, []byte("settings: {other.secret: x}\n"), false); err != nil {
		t.Errorf("import: %v", err)
	}
}
