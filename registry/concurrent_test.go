package registry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/pgtest"
	"github.com/provision/provision/kickstart"
)

// startSignal is a context that tells when a render starts: the bounded
// render (kickstart's execute) derives its deadline from it, which asks
// for its Done channel.
type startSignal struct {
	context.Context
	once    sync.Once
	started chan struct{}
}

func (c *startSignal) Done() <-chan struct{} {
	c.once.Do(func() { close(c.started) })
	return c.Context.Done()
}

// A template that never stops rendering ({{range 100000000000}}) is
// refused within the render's bound, naming the template and the system,
// and a system edit made while it renders completes meanwhile: the render
// holds no lock. Before, the render ran under the writers' lock with no
// bound: every write (installer callbacks, deadlines, edits) waited for
// it, for hours.
func TestRunawayTemplateDoesNotBlockWrites(t *testing.T) {
	r, _ := openInstall(t)
	ctx := context.Background()
	web1 := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web1.Profile = "inst"
	must(t, func() error { _, err := r.AddSystem(ctx, web1); return err })

	sig := &startSignal{Context: ctx, started: make(chan struct{})}
	start := time.Now()
	refused := make(chan error, 1)
	go func() {
		_, err := r.EditTemplate(sig, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n{{range 100000000000}}{{end}}\n"})
		refused <- err
	}()
	select {
	case <-sig.started:
	case <-time.After(kickstart.RenderTimeout / 4): // a build without the signal: edit anyway
		t.Log("no signal of the render's start")
	}
	edited := make(chan error, 1)
	go func() {
		web1.Settings = map[string]string{"disk": "vda"}
		_, err := r.EditSystem(ctx, "web001", web1)
		edited <- err
	}()
	select {
	case err := <-edited:
		if err != nil {
			t.Fatalf("system edit during the render: %v", err)
		}
	case err := <-refused:
		t.Fatalf("the template edit returned (%v) before the system edit made meanwhile: the edit waited for the render", err)
	case <-time.After(kickstart.RenderTimeout):
		t.Fatalf("the system edit waits for the template's render (%v and counting)", kickstart.RenderTimeout)
	}
	t.Logf("a system edit completed %v into the runaway render", time.Since(start).Round(time.Millisecond))
	var err error
	select {
	case err = <-refused:
	case <-time.After(10 * kickstart.RenderTimeout):
		t.Fatalf("the template edit is still rendering after %v", 10*kickstart.RenderTimeout)
	}
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "template inst") || !strings.Contains(err.Error(), "stopped after") {
		t.Fatalf("runaway template: %v, want ErrInvalid naming template inst, stopped after its bound", err)
	}
	t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if got, _ := r.Snapshot().Templates().Lookup("inst"); strings.Contains(got.Text, "range") {
		t.Error("the runaway template was stored")
	}
	if got, _ := r.Snapshot().SystemByName("web001"); got.Settings["disk"] != "vda" {
		t.Errorf("the system edit is lost: %v", got.Settings)
	}
}

// A change whose renders ran while another write changed what they read
// is validated again on the new Snapshot: a template that requires a
// setting, added while an edit removes that setting from the one system
// using it, never commits next to it.
func TestRenderCheckedAgainAfterAConcurrentWrite(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n"})
		return err
	})
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst"})
		return err
	})
	web1 := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web1.Profile, web1.Settings = "inst", map[string]string{"disk": "vda"}
	must(t, func() error { _, err := r.AddSystem(ctx, web1); return err })

	sig := &startSignal{Context: ctx, started: make(chan struct{})}
	slow := `{{range 20000}}{{end}}disk={{required "disk must be set" (index .Settings "disk")}}` + "\n"
	tmplErr := make(chan error, 1)
	go func() {
		_, err := r.EditTemplate(sig, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: slow})
		tmplErr <- err
	}()
	select {
	case <-sig.started:
	case <-time.After(kickstart.RenderTimeout):
		t.Fatal("the template's render never started")
	}
	web1.Settings = nil
	_, sysErr := r.EditSystem(ctx, "web001", web1)
	err := <-tmplErr
	t.Logf("template edit: %v; system edit: %v", err, sysErr)
	if err == nil && sysErr == nil {
		t.Fatal("both committed: web001 has no disk setting and its template requires one")
	}
	s := r.Snapshot()
	got, _ := s.SystemByName("web001")
	if err := s.renderCheck(ctx, got); err != nil {
		t.Errorf("the registry holds a system whose template does not render: %v", err)
	}
}

// twoAppliances opens two registries on one database, as two appliances
// would (PostgreSQL), or two processes on one SQLite file: b is opened
// after the seed (subnet lan, image centos, profile web, system web001),
// and nothing tells either of the other's commits (no Follow).
func twoAppliances(t *testing.T, backend string) (a, b *Registry) {
	t.Helper()
	var open func() *Registry
	if backend == "postgres" {
		url := pgtest.DB(t)
		open = func() *Registry { t.Helper(); return openPostgresRegistry(t, url) }
	} else {
		path := filepath.Join(t.TempDir(), "registry.db")
		open = func() *Registry { t.Helper(); return openRegistryOn(t)(OpenSQLite(context.Background(), path)) }
	}
	ctx := context.Background()
	a = open()
	must(t, func() error { _, err := a.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24"}); return err })
	must(t, func() error {
		_, err := a.AddImage(ctx, Image{Name: "centos", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}})
		return err
	})
	must(t, func() error { _, err := a.AddProfile(ctx, Profile{Name: "web", Image: "centos"}); return err })
	must(t, func() error { _, err := a.AddSystem(ctx, sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); return err })
	return a, open()
}

var backends = []string{"postgres", "sqlite"}

// addSetting adds one setting to web001 as a client of the API does (a
// PATCH): read it, change it, write it on the condition that it is still
// what was read (Expecting, as If-Match), and start again when it is not
// (ErrChanged).
func addSetting(ctx context.Context, r *Registry, key string) (tries int, err error) {
	for tries = 1; tries <= 50; tries++ {
		cur, ok := r.Snapshot().SystemByName("web001")
		if !ok {
			return tries, errors.New("web001 not found")
		}
		read := cur.Clone()
		next := cur.Clone()
		if next.Settings == nil {
			next.Settings = map[string]string{}
		}
		next.Settings[key] = "1"
		cctx := Expecting(ctx, ObjSystem, "web001", func(obj any) bool { return reflect.DeepEqual(*obj.(*System), read) })
		_, err = r.EditSystem(cctx, "web001", next)
		if !errors.Is(err, ErrChanged) {
			return tries, err
		}
	}
	return tries, err
}

// Two appliances editing one system at once lose no edit: each of 20
// concurrent read-change-write edits, split over both, adds its own
// setting, and all 20 are there in the end, in the database and in each
// appliance's Snapshot. Before, an appliance whose Snapshot was stale
// checked the edit (and If-Match) against it and wrote blindly over the
// other's edits.
func TestTwoAppliancesEditOneSystem(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			a, b := twoAppliances(t, backend)
			var wg sync.WaitGroup
			errs := make([]error, 20)
			tries := make([]int, 20)
			for i := range errs {
				r := a
				if i%2 == 1 {
					r = b
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					tries[i], errs[i] = addSetting(ctx, r, fmt.Sprintf("k%02d", i))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("edit k%02d: %v", i, err)
				}
			}
			must(t, func() error { return a.sync(ctx) })
			must(t, func() error { return b.sync(ctx) })
			for name, snap := range map[string]*Snapshot{"a": a.Snapshot(), "b": b.Snapshot(), "the database": stored(t, a)} {
				got, _ := snap.SystemByName("web001")
				if len(got.Settings) != len(errs) {
					t.Errorf("%s: web001 has %d settings, want %d: %v", name, len(got.Settings), len(errs), got.Settings)
				}
			}
			t.Logf("tries per edit: %v", tries)
		})
	}
}

// stored is what the database of r holds, loaded afresh.
func stored(t *testing.T, r *Registry) *Snapshot {
	t.Helper()
	d, err := r.store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := build(d, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An edit checked against a stale Snapshot with If-Match is refused with
// ErrChanged (the API's 412) naming the system, not written over the
// other appliance's edit.
func TestStaleIfMatchRefused(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			a, b := twoAppliances(t, backend)
			readByB, _ := b.Snapshot().SystemByName("web001")
			read := readByB.Clone()
			edA := read.Clone()
			edA.Settings = map[string]string{"by": "a"}
			must(t, func() error { _, err := a.EditSystem(ctx, "web001", edA); return err })
			edB := read.Clone()
			edB.Settings = map[string]string{"by": "b"}
			cctx := Expecting(ctx, ObjSystem, "web001", func(obj any) bool { return reflect.DeepEqual(*obj.(*System), read) })
			_, err := b.EditSystem(cctx, "web001", edB)
			if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "system web001") {
				t.Fatalf("b's edit of what it read before a's: %v, want ErrChanged naming system web001", err)
			}
			if got, _ := b.Snapshot().SystemByName("web001"); got.Settings["by"] != "a" {
				t.Errorf("b's Snapshot after the refusal: %v, want a's edit", got.Settings)
			}
		})
	}
}

// A rule that spans two objects holds across appliances: a template
// removed on one appliance while the other, not knowing, adds a profile
// that installs from it: the profile is refused, and the database never
// holds a profile whose template is gone. And the other way round: a
// profile added first keeps its template from being removed.
func TestTwoAppliancesTemplateReference(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			a, b := twoAppliances(t, backend)
			tmpl := kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n"}
			must(t, func() error { _, err := a.AddTemplate(ctx, tmpl); return err })
			must(t, func() error { return b.sync(ctx) })

			must(t, func() error { return a.RemoveTemplate(ctx, "inst") })
			_, err := b.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst"})
			if err == nil || !strings.Contains(err.Error(), "inst") {
				t.Fatalf("b adds a profile using the template a removed: %v, want it refused naming the template", err)
			}
			t.Logf("refused: %v", err)
			if p, ok := stored(t, a).Profile("inst"); ok {
				t.Fatalf("the database holds profile inst (template %q) without its template", p.Kickstart)
			}

			// The other way round.
			must(t, func() error { _, err := a.AddTemplate(ctx, tmpl); return err })
			must(t, func() error { return b.sync(ctx) })
			must(t, func() error {
				_, err := b.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst"})
				return err
			})
			err = a.RemoveTemplate(ctx, "inst")
			if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "profile inst") {
				t.Fatalf("a removes the template b's new profile uses: %v, want ErrInUse naming profile inst", err)
			}
		})
	}
}

// Many writers on one appliance at once, each with a template to render
// (outside the lock), all commit: a change whose renders are already done
// (a try again after another write came first) commits without letting
// go of the lock, so it cannot keep losing. The renders are short: each
// is bounded by kickstart.RenderTimeout of the wall clock, which forty
// at once on a loaded machine once passed with a loop of 2,000.
func TestConcurrentAddsWithTemplates(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	must(t, func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n{{range 200}}{{end}}# {{.System.Name}}\n"})
		return err
	})
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst"})
		return err
	})
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := sys(fmt.Sprintf("web%03d", i), fmt.Sprintf("aa:bb:cc:dd:ee:%02x", i), fmt.Sprintf("10.0.0.%d", 10+i))
			s.Profile = "inst"
			_, errs[i] = r.AddSystem(ctx, s)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("add web%03d: %v", i, err)
		}
	}
}
