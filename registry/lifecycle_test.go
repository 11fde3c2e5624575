package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/kickstart"
)

// openLifecycle is openTest plus a template "inst" (kind script) that
// needs setting "disk", profile "inst" installing from it with disk=vda,
// and a clock the test moves.
func openLifecycle(t *testing.T) (*Registry, string, *time.Time) {
	t.Helper()
	r, path := openTest(t)
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	ctx := context.Background()
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript,
			Text: "#!/bin/sh\n# {{.System.Name}}\ndisk={{.Settings.disk}}\nwget {{.URLs.Done}}\n"})
		return err
	})
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst", InstallTimeout: "20m",
			Settings: map[string]string{"disk": "vda"}})
		return err
	})
	return r, path, &clock
}

func instSys(name, mac, ip string) System {
	s := sys(name, mac, ip)
	s.Profile = "inst"
	return s
}

func TestLifecycleInstall(t *testing.T) {
	r, path, clock := openLifecycle(t)
	ctx := context.Background()
	got, err := r.AddSystem(ctx, instSys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatePending || got.BuildToken == "" || got.Deadline != "2026-12-01T10:20:00Z" || !got.Netboot {
		t.Fatalf("after add: %+v", got)
	}
	token := string(got.BuildToken)
	if d, err := r.AddSystem(ctx, sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12")); err != nil || d.Status != StateDiskless || d.BuildToken != "" {
		t.Fatalf("a system without a template: %+v, %v", d, err)
	}
	if s, ok := r.Snapshot().BuildByToken(token, *clock); !ok || s.Name != "web001" {
		t.Fatalf("BuildByToken: %v %v", s, ok)
	}
	if s, err := r.BuildStarted(ctx, token, "fetched"); err != nil || s.Status != StateInstalling {
		t.Fatalf("BuildStarted: %+v %v", s, err)
	}
	if s, err := r.BuildStarted(ctx, token, "fetched again"); err != nil || s.Status != StateInstalling {
		t.Fatalf("a second fetch: %+v %v", s, err)
	}
	*clock = clock.Add(5 * time.Minute)
	s, err := r.BuildDone(ctx, token, "done")
	if err != nil || s.Status != StateInstalled || s.Netboot || s.BuildToken != "" || s.StatusSince != "2026-12-01T10:05:00Z" {
		t.Fatalf("BuildDone: %+v %v", s, err)
	}
	if _, err := r.BuildDone(ctx, token, "again"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a used token: %v", err)
	}
	// The state survives a restart, and history says why it changed.
	r2 := reopen(t, path)
	if s, _ := r2.Snapshot().SystemByName("web001"); s.Status != StateInstalled || s.Netboot {
		t.Fatalf("after reopen: %+v", s)
	}
	h, _ := r2.History(ctx, "web001", 100)
	var notes []string
	for _, c := range h {
		if c.Op == "state" {
			notes = append(notes, c.Note)
		}
		if strings.Contains(c.Old+c.New, token) {
			t.Fatalf("the token is in history: %+v", c)
		}
	}
	want := "pending -> installing (callback): fetched|installing -> installed (callback): done"
	if strings.Join(notes, "|") != want {
		t.Fatalf("history notes %q, want %q", notes, want)
	}
}

func TestLifecycleReinstallFailAndDeadline(t *testing.T) {
	r, path, clock := openLifecycle(t)
	ctx := context.Background()
	first, _ := r.AddSystem(ctx, instSys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11"))
	again, err := r.Reinstall(ctx, "web001")
	if err != nil || again.Status != StatePending || again.BuildToken == first.BuildToken {
		t.Fatalf("Reinstall: %+v %v", again, err)
	}
	if _, ok := r.Snapshot().BuildByToken(string(first.BuildToken), *clock); ok {
		t.Fatal("the old build's token still works after a reinstall")
	}
	log := &InstallLog{Size: 70000, Log: []byte("anaconda: no disk\n")}
	s, err := r.BuildFailed(ctx, string(again.BuildToken), "reported", log)
	if err != nil || s.Status != StateFailed || s.BuildToken != "" {
		t.Fatalf("BuildFailed: %+v %v", s, err)
	}
	if l, err := reopen(t, path).InstallLog(ctx, "web001"); err != nil || string(l.Log) != "anaconda: no disk\n" || l.Size != 70000 {
		t.Fatalf("InstallLog: %+v %v", l, err)
	}
	// A deadline: a token is unknown the moment it passes, and the loop's
	// mutation fails the build.
	third, _ := r.Reinstall(ctx, "web001")
	*clock = clock.Add(20 * time.Minute)
	if _, ok := r.Snapshot().BuildByToken(string(third.BuildToken), *clock); ok {
		t.Fatal("a token past its deadline still works")
	}
	names, err := r.ExpireBuilds(ctx, *clock)
	if err != nil || strings.Join(names, ",") != "web001" {
		t.Fatalf("ExpireBuilds: %v %v", names, err)
	}
	if s, _ := r.Snapshot().SystemByName("web001"); s.Status != StateFailed || s.BuildToken != "" {
		t.Fatalf("after the deadline: %+v", s)
	}
	if _, ok := r.Snapshot().NextDeadline(); ok {
		t.Fatal("NextDeadline with no build under way")
	}
	if _, err := r.Reinstall(ctx, "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reinstall of an unknown system: %v", err)
	}
	r.AddSystem(ctx, sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12"))
	if _, err := r.Reinstall(ctx, "web002"); err == nil || !strings.Contains(err.Error(), "profile web has no install template") {
		t.Fatalf("reinstall without a template: %v", err)
	}
}

func TestLifecycleFollowsProfile(t *testing.T) {
	r, _, _ := openLifecycle(t)
	ctx := context.Background()
	r.AddSystem(ctx, sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11"))
	// The profile gains a template: its diskless systems become pending.
	p, _ := r.Snapshot().Profile("web")
	np := *p
	np.Kickstart, np.Settings = "inst", map[string]string{"disk": "sda"}
	if _, err := r.EditProfile(ctx, "web", np); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.Snapshot().SystemByName("web001"); s.Status != StatePending || s.BuildToken == "" {
		t.Fatalf("after the profile got a template: %+v", s)
	}
	// An edit of the system keeps its state and token.
	s, _ := r.Snapshot().SystemByName("web001")
	edit := s.Clone()
	edit.KernelArgs, edit.Status, edit.BuildToken = "quiet", StateInstalled, ""
	got, err := r.EditSystem(ctx, "web001", edit)
	if err != nil || got.Status != StatePending || got.BuildToken != s.BuildToken {
		t.Fatalf("edit: %+v %v", got, err)
	}
	// Back to a profile without a template: diskless, token revoked.
	edit = got.Clone()
	edit.Profile = "db"
	if got, err = r.EditSystem(ctx, "web001", edit); err != nil || got.Status != StateDiskless || got.BuildToken != "" {
		t.Fatalf("to a profile without a template: %+v %v", got, err)
	}
}

// Errors are caught before any install starts: every write that would
// leave a system with a template that does not render is refused, naming
// the system, the template and the line.
func TestTemplateRefusals(t *testing.T) {
	r, _, _ := openLifecycle(t)
	ctx := context.Background()
	if _, err := r.AddSystem(ctx, instSys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); err != nil {
		t.Fatal(err)
	}
	noDisk := instSys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12")
	noDisk.Profile = "bare"
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "needs-role", Kind: kickstart.KindKickstart, Text: "role={{.Settings.role}}\n"})
		return err
	})
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"syntax error at add", func() error {
			_, err := r.AddTemplate(ctx, kickstart.Template{Name: "bad", Kind: kickstart.KindKickstart, Text: "a\n{{.System.Name\n"})
			return err
		}, "template bad: line 2:"},
		{"field that does not exist, at add", func() error {
			_, err := r.AddTemplate(ctx, kickstart.Template{Name: "typo", Kind: kickstart.KindKickstart, Text: "a\n{{.Subnet.Mask}}\n"})
			return err
		}, "template typo: line 2: can't evaluate field Mask"},
		{"edit that breaks a user", func() error {
			_, err := r.EditTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "a\nb\n{{.Settings.swap}}\n"})
			return err
		}, `system web001: template inst: line 3: map has no entry for key "swap"`},
		{"profile whose template fails for its system", func() error {
			p, _ := r.Snapshot().Profile("inst")
			np := *p
			np.Settings = nil
			_, err := r.EditProfile(ctx, "inst", np)
			return err
		}, `system web001: template inst: line 3: map has no entry for key "disk"`},
		{"system added to a profile whose template fails for it", func() error {
			r.AddProfile(ctx, Profile{Name: "bare", Image: "centos"})
			p, _ := r.Snapshot().Profile("bare")
			np := *p
			np.Kickstart = "needs-role"
			if _, err := r.EditProfile(ctx, "bare", np); err != nil {
				return err
			}
			_, err := r.AddSystem(ctx, noDisk)
			return err
		}, `system web002: template needs-role: line 1: map has no entry for key "role"`},
		{"unknown template", func() error {
			_, err := r.AddProfile(ctx, Profile{Name: "x", Image: "centos", Kickstart: "nosuch"})
			return err
		}, `profile x: template "nosuch" does not exist`},
		{"remove in use", func() error { return r.RemoveTemplate(ctx, "inst") }, "template inst is in use by profile inst"},
		{"unset a global setting a template needs", func() error {
			if _, err := r.SetSetting(ctx, "ntp", "10.0.0.1"); err != nil {
				return err
			}
			_, err := r.EditTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "{{.Settings.disk}} {{.Settings.ntp}}\n"})
			if err != nil {
				return err
			}
			return r.UnsetSetting(ctx, "ntp")
		}, `system web001: template inst: line 1: map has no entry for key "ntp"`},
		{"remove a built-in", func() error { return r.RemoveTemplate(ctx, "debian12-preseed") }, "template debian12-preseed is built in"},
		{"bad timeout", func() error {
			_, err := r.AddProfile(ctx, Profile{Name: "y", Image: "centos", InstallTimeout: "soon"})
			return err
		}, `profile y: install timeout "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	// Nothing of the refused writes landed.
	if _, ok := r.Snapshot().Setting("ntp"); !ok {
		t.Fatal("the refused unset removed the setting")
	}
	if tm, _ := r.Snapshot().Templates().Lookup("inst"); !strings.Contains(tm.Text, "Settings.disk") {
		t.Fatalf("template inst changed: %q", tm.Text)
	}
	if _, ok := r.Snapshot().SystemByName("web002"); ok {
		t.Fatal("web002 was added")
	}
}

// A snippet is included by name; removing it while included is refused,
// and an edit of the snippet is checked against the systems of every
// template that includes it.
func TestSnippets(t *testing.T) {
	r, _, _ := openLifecycle(t)
	ctx := context.Background()
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "net", Kind: kickstart.KindSnippet, Text: "ip={{.System.IP}}\n"})
		return err
	})
	must(t, func() error {
		_, err := r.EditTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "{{template \"net\" .}}disk={{.Settings.disk}}\n"})
		return err
	})
	r.AddSystem(ctx, instSys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11"))
	if err := r.RemoveTemplate(ctx, "net"); err == nil || !strings.Contains(err.Error(), "template net is in use by template inst") {
		t.Fatalf("remove an included snippet: %v", err)
	}
	_, err := r.EditTemplate(ctx, kickstart.Template{Name: "net", Kind: kickstart.KindSnippet, Text: "gw={{.Settings.gw}}\n"})
	if err == nil || !strings.Contains(err.Error(), `system web001: template net: line 1: map has no entry for key "gw"`) {
		t.Fatalf("edit a snippet that breaks an includer's system: %v", err)
	}
	if _, err := r.AddProfile(ctx, Profile{Name: "z", Image: "centos", Kickstart: "net"}); err == nil || !strings.Contains(err.Error(), "is a snippet") {
		t.Fatalf("a profile installing from a snippet: %v", err)
	}
	out, err := r.Snapshot().Templates().Render("inst", r.Snapshot().TemplateData(mustSys(t, r, "web001"), kickstart.URLs{}))
	if err != nil || string(out) != "ip=10.0.0.11\ndisk=vda\n" {
		t.Fatalf("render: %q %v", out, err)
	}
}

func mustSys(t *testing.T, r *Registry, name string) *System {
	s, ok := r.Snapshot().SystemByName(name)
	if !ok {
		t.Fatalf("no system %s", name)
	}
	return s
}

// Export and import keep the lifecycle: the same bytes after a round trip
// through a fresh registry, a build under way keeps its deadline (and,
// exported with secrets, its token), and the token is only in an export
// with secrets.
func TestLifecycleExportImport(t *testing.T) {
	r, _, _ := openLifecycle(t)
	ctx := context.Background()
	pend, _ := r.AddSystem(ctx, instSys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11"))
	done, _ := r.AddSystem(ctx, instSys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12"))
	if _, err := r.BuildDone(ctx, string(done.BuildToken), "done"); err != nil {
		t.Fatal(err)
	}
	plain, _ := r.Snapshot().Export(false)
	secret, _ := r.Snapshot().Export(true)
	if strings.Contains(string(plain), string(pend.BuildToken)) || !strings.Contains(string(secret), string(pend.BuildToken)) {
		t.Fatal("the token must be in the export with secrets only")
	}
	for _, doc := range [][]byte{plain, secret} {
		fresh, _ := openTest(t)
		if _, err := fresh.Import(ctx, doc, false); err != nil {
			t.Fatal(err)
		}
		again, _ := fresh.Snapshot().Export(false)
		if string(again) != string(plain) {
			t.Fatalf("export after import differs:\n%s\nwant:\n%s", again, plain)
		}
		s, _ := fresh.Snapshot().SystemByName("web001")
		if s.Status != StatePending || s.Deadline != pend.Deadline || s.BuildToken == "" {
			t.Fatalf("imported build: %+v", s)
		}
		if sameToken := s.BuildToken == pend.BuildToken; sameToken != (string(doc) == string(secret)) {
			t.Fatalf("imported token kept: %v", sameToken)
		}
		if s, _ := fresh.Snapshot().SystemByName("web002"); s.Status != StateInstalled || s.Netboot {
			t.Fatalf("imported installed system: %+v", s)
		}
	}
	// Importing the registry's own export changes nothing, and keeps the
	// token of the build under way.
	rep, err := r.Import(ctx, plain, false)
	if err != nil || len(rep.Changed) != 0 {
		t.Fatalf("re-import: %+v %v", rep, err)
	}
	if s, _ := r.Snapshot().SystemByName("web001"); s.BuildToken != pend.BuildToken {
		t.Fatal("re-import replaced the token")
	}
}

// A failed build's installer log stays with the system through a rename.
func TestInstallLogSurvivesARename(t *testing.T) {
	r, _, _ := openLifecycle(t)
	ctx := context.Background()
	sys, _ := r.AddSystem(ctx, instSys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11"))
	if _, err := r.BuildFailed(ctx, string(sys.BuildToken), "reported", &InstallLog{Size: 5, Log: []byte("oops\n")}); err != nil {
		t.Fatal(err)
	}
	cur, _ := r.Snapshot().SystemByName("web001")
	next := *cur
	next.Name, next.Hostname = "web101", ""
	if _, err := r.EditSystem(ctx, "web001", next); err != nil {
		t.Fatal(err)
	}
	if l, err := r.InstallLog(ctx, "web101"); err != nil || string(l.Log) != "oops\n" {
		t.Fatalf("web101's log after the rename: %+v, %v", l, err)
	}
	if _, err := r.InstallLog(ctx, "web001"); err == nil {
		t.Error("the old name still has a log")
	}
}
