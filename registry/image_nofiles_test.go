package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// An install image may be registered without any file (an import whose
// kernel and initrd were not at hand), its profiles and systems with it;
// its network boot fails, naming it, until `image edit` gives it both
// files. Some files and not all, or a diskless image without files, are
// still refused.
func TestImageAwaitingFiles(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	must(t, func() error { _, err := r.AddImage(ctx, Image{Name: "ubuntu22", Kind: KindInstall}); return err })
	r.Close()
	r = reopen(t, path) // it is stored, and loaded again
	if img, ok := r.Snapshot().Image("ubuntu22"); !ok || len(img.Files) != 0 {
		t.Fatalf("image ubuntu22 after a reopen: %+v, %v", img, ok)
	}
	must(t, func() error { _, err := r.AddProfile(ctx, Profile{Name: "app", Image: "ubuntu22"}); return err })
	must(t, func() error {
		_, err := r.AddSystem(ctx, System{Name: "app001", MACs: []string{"aa:bb:cc:dd:ee:01"}, IP: "10.0.0.11", Profile: "app", Netboot: true})
		return err
	})
	snap := r.Snapshot()
	app, _ := snap.SystemByName("app001")
	plan := snap.BootPlan(app, time.Now())
	want := "system app001: image ubuntu22 has no files yet: upload them with `provision image edit ubuntu22 --kernel FILE --initrd FILE`"
	if _, err := snap.KernelArgs(app, plan, BootVia{Server: "http://10.0.0.1"}); !plan.Netboot || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
		t.Errorf("boot of app001 (netboot %v): %v, want %q", plan.Netboot, err, want)
	}
	for _, tt := range []struct {
		img  Image
		want string
	}{
		{Image{Name: "half", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}}}, "image half: a install image needs a initrd file"},
		{Image{Name: "live", Kind: KindDiskless}, "image live: a diskless image needs a kernel file"},
	} {
		if _, err := r.AddImage(ctx, tt.img); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.img.Name, err, tt.want)
		}
	}
	full := Image{Name: "ubuntu22", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}}
	must(t, func() error { _, err := r.EditImage(ctx, "ubuntu22", full); return err })
	snap = r.Snapshot()
	if _, err := snap.KernelArgs(app, snap.BootPlan(app, time.Now()), BootVia{Server: "http://10.0.0.1"}); err != nil {
		t.Errorf("boot of app001 once its image has files: %v", err)
	}
}
