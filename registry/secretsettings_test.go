package registry

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/seal"
	"github.com/provision/provision/kickstart"
)

// Recognizable secret values, one per level.
const (
	globalSecret  = "GLOBAL-SECRET-7f3a9c"
	profileSecret = "PROFILE-SECRET-5e1d2b"
	systemSecret  = "SYSTEM-SECRET-9b8c4e"
)

// openSecrets is openLifecycle on a store that seals with a key, with a
// template that prints the secret settings it sees, a profile using it
// and a secret setting at every level: the global and the profile's
// root.password-hash, the system's user.password-hash and, for web001
// only, its own root.password-hash.
func openSecrets(t *testing.T) (*Registry, string, *seal.Key) {
	t.Helper()
	r, path, _ := openLifecycle(t)
	ctx := context.Background()
	r.Close()
	key, err := seal.Create(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	r = reopenWithKey(t, path, key)
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "sec", Kind: kickstart.KindScript,
			Text: "#!/bin/sh\nroot={{index .Secrets \"root.password-hash\"}}\nuser={{index .Secrets \"user.password-hash\"}}\nrole={{index .Settings \"role\"}}\n"})
		return err
	})
	must(t, func() error { _, err := r.SetSecretSetting(ctx, "root.password-hash", globalSecret); return err })
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "sec", Image: "centos", Kickstart: "sec",
			Settings: map[string]string{"role": "web"}, SecretSettings: SecretSettings{"user.password-hash": profileSecret}})
		return err
	})
	for _, name := range []string{"web001", "web002"} {
		s := sys(name, "aa:bb:cc:dd:ee:0"+name[5:], "10.0.0.1"+name[5:])
		s.Profile = "sec"
		if name == "web001" {
			s.SecretSettings = SecretSettings{"root.password-hash": systemSecret}
		}
		must(t, func() error { _, err := r.AddSystem(ctx, s); return err })
	}
	return r, path, key
}

func reopenWithKey(t *testing.T, path string, key *seal.Key) *Registry {
	t.Helper()
	st := openStore(t, path)
	if err := st.UseKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// noSecretIn fails the test if text holds any of the secret values.
func noSecretIn(t *testing.T, what, text string) {
	t.Helper()
	for _, v := range []string{globalSecret, profileSecret, systemSecret} {
		if strings.Contains(text, v) {
			t.Errorf("%s holds the secret value %s:\n%s", what, v, text)
		}
	}
}

// Item 6 of issue 27: secret settings at every level reach the template
// of the build (the most specific level winning), and nothing else: not
// the ordinary settings (what DNS, data.cdb and zonecfg publish), not
// the objects' JSON (the API, history, ETags), not history, not an export
// without secrets, not the database file; a restart reads them back.
func TestSecretSettingsReachOnlyTheTemplate(t *testing.T) {
	ctx := context.Background()
	r, path, key := openSecrets(t)
	check := func(r *Registry) {
		t.Helper()
		snap := r.Snapshot()
		for name, want := range map[string]string{
			"web001": "root=" + systemSecret + "\nuser=" + profileSecret + "\nrole=web\n",
			"web002": "root=" + globalSecret + "\nuser=" + profileSecret + "\nrole=web\n",
		} {
			s, _ := snap.SystemByName(name)
			out, err := snap.Templates().Render("sec", snap.TemplateData(s, kickstart.URLs{}))
			if err != nil || !strings.HasSuffix(string(out), want) {
				t.Errorf("%s's template: %v\n%s", name, err, out)
			}
			d := snap.TemplateData(s, kickstart.URLs{})
			b, _ := json.Marshal(map[string]any{"system": s, "settings": d.Settings, "effective": snap.EffectiveSettings(s)})
			noSecretIn(t, name+"'s JSON and settings", string(b))
			MaskSecrets(&d)
			out, _ = snap.Templates().Render("sec", d)
			noSecretIn(t, name+"'s masked preview", string(out))
		}
		p, _ := snap.Profile("sec")
		b, _ := json.Marshal(map[string]any{"profile": p, "settings": snap.Settings()})
		noSecretIn(t, "the profile's JSON and the global settings", string(b))
		if !strings.Contains(string(b), `"secret_settings":{"user.password-hash":""}`) {
			t.Errorf("the profile's JSON does not name its secret key: %s", b)
		}
		exp, err := snap.Export(false)
		if err != nil {
			t.Fatal(err)
		}
		noSecretIn(t, "an export without secrets", string(exp))
		exp, _ = snap.Export(true)
		for _, v := range []string{globalSecret, profileSecret, systemSecret} {
			if !strings.Contains(string(exp), v) {
				t.Errorf("an export with secrets lacks %s", v)
			}
		}
	}
	check(r)
	must(t, func() error { _, err := r.SetSecretSetting(ctx, "root.password-hash", globalSecret+"-2"); return err })
	s, _ := r.Snapshot().SystemByName("web002")
	s2 := s.Clone()
	s2.SecretSettings = SecretSettings{"user.password-hash": systemSecret + "-2"}
	must(t, func() error { _, err := r.EditSystem(ctx, "web002", s2); return err })
	s2.SecretSettings = nil
	must(t, func() error { _, err := r.EditSystem(ctx, "web002", s2); return err })
	must(t, func() error { _, err := r.SetSecretSetting(ctx, "root.password-hash", globalSecret); return err })

	h, err := r.History(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(h)
	noSecretIn(t, "history", string(b))
	for _, note := range []string{"secret value set", "secret value changed", "secret user.password-hash set", "secret user.password-hash removed", "secret root.password-hash set"} {
		if !strings.Contains(string(b), note) {
			t.Errorf("history does not say %q:\n%s", note, b)
		}
	}
	r.Close()
	for _, v := range []string{globalSecret, profileSecret, systemSecret} {
		if storedPlain(t, path, v) {
			t.Errorf("the database holds %s in plaintext", v)
		}
	}
	check(reopenWithKey(t, path, key))
}

// A key is secret or ordinary at one level: both at once is refused,
// naming the key; setting a secret one over an ordinary one moves it.
func TestSecretSettingKeyIsOneKind(t *testing.T) {
	ctx := context.Background()
	r, _, _ := openSecrets(t)
	s := sys("web003", "aa:bb:cc:dd:ee:03", "10.0.0.13")
	s.Settings = map[string]string{"root.password-hash": "x"}
	s.SecretSettings = SecretSettings{"ROOT.password-hash": "y"}
	if _, err := r.AddSystem(Public(ctx), s); err == nil || !strings.Contains(err.Error(), "system web003: setting root.password-hash is both a secret setting and an ordinary one") {
		t.Errorf("both kinds on a system: %v", err)
	}
	if _, err := r.SetSetting(ctx, "root.password-hash", "x"); err == nil || !strings.Contains(err.Error(), "global: setting root.password-hash is a secret setting") {
		t.Errorf("an ordinary setting over a secret one: %v", err)
	}
	s.SecretSettings = SecretSettings{"api.key": ""}
	s.Settings = nil
	if _, err := r.AddSystem(ctx, s); err == nil || !strings.Contains(err.Error(), "system web003: secret setting api.key has no value") {
		t.Errorf("a new secret without a value: %v", err)
	}

	// Migration: an ordinary setting named like a secret (--public) moves.
	if _, err := r.SetSetting(Public(ctx), "user.password-hash", "legacy"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetSecretSetting(ctx, "user.password-hash", "moved"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Snapshot().Setting("user.password-hash"); ok {
		t.Error("the ordinary setting is still there after set --secret")
	}
	if v, _ := r.Snapshot().SecretSetting("user.password-hash"); v != "moved" {
		t.Errorf("the secret one: %q", v)
	}
	h, _ := r.History(ctx, "user.password-hash", 10)
	if len(h) != 3 || h[1].Op != "unset" || h[1].Note != "moved to the secret settings" || h[2].Kind != ObjSecretSetting {
		t.Errorf("history of the move: %+v", h)
	}
	if err := r.UnsetSetting(ctx, "user.password-hash"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Snapshot().SecretSetting("user.password-hash"); ok {
		t.Error("unset left the secret setting")
	}
}

// An object written back as read (its JSON names its secret keys with
// empty values) keeps its secrets; an export without secrets imports
// again as no change, and on a registry without them is refused naming
// the key.
func TestSecretSettingsKeptThroughJSONAndImport(t *testing.T) {
	ctx := context.Background()
	r, _, _ := openSecrets(t)
	cur, _ := r.Snapshot().SystemByName("web001")
	b, _ := json.Marshal(cur)
	var back System
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.KernelArgs = "quiet"
	got, err := r.EditSystem(ctx, "web001", back)
	if err != nil || got.SecretSettings["root.password-hash"] != systemSecret {
		t.Fatalf("written back as read: %v %v", err, got.SecretSettings)
	}
	exp, _ := r.Snapshot().Export(false)
	rep, err := r.Import(ctx, exp, true)
	if err != nil || len(rep.Added)+len(rep.Changed) != 0 {
		t.Errorf("the export imported again: %+v %v", rep, err)
	}
	fresh, _ := openTest(t)
	if _, err := fresh.Import(ctx, exp, true); err == nil || !strings.Contains(err.Error(), "global: secret setting root.password-hash has no value") {
		t.Errorf("an export without secrets into a registry without them: %v", err)
	}
}

// A secret setting is sealed for its owner and key: its sealed value
// copied to another row does not open, and the error names the row.
func TestSecretSettingsBoundToTheirRow(t *testing.T) {
	ctx := context.Background()
	r, path, key := openSecrets(t)
	r.Close()
	st := openStore(t, path)
	_, err := st.db.ExecContext(ctx, `INSERT INTO object_secrets SELECT 'system/web002', key, value FROM object_secrets WHERE owner = 'system/web001'`)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = openStore(t, path)
	defer st.Close()
	if err := st.UseKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, st, "dsas"); err == nil || !strings.Contains(err.Error(), "the secret setting root.password-hash of system web002: it was not sealed for it") {
		t.Fatalf("a sealed value copied to another system: %v", err)
	}
}
