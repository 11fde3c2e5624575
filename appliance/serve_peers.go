package appliance

import (
	"context"
	"sort"
	"time"

	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
)

// peerRetry is how soon files no peer had are asked for again.
const peerRetry = 5 * time.Second

// syncPeers keeps the image store holding every file the registry names,
// fetching what is missing from --peer appliances: at start, at every
// change of the registry, and every peerRetry while something is missing.
func (a *Appliance) syncPeers(ctx context.Context) {
	if len(a.cfg.Peers) == 0 {
		return
	}
	peers := &images.Peers{URLs: a.cfg.Peers, Store: a.blobs, Log: a.log}
	changed := make(chan struct{}, 1)
	a.reg.OnChange(func(*registry.Snapshot) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	retry := time.NewTimer(0)
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-retry.C:
		}
		missing, err := peers.Sync(ctx, wantedFiles(a.reg.Snapshot()))
		if missing == 0 {
			retry.Stop()
			lastErr = ""
			continue
		}
		if err.Error() != lastErr { // say it once, not every peerRetry
			a.log.Warn("images: files the registry names are missing here and on every peer; trying again", "missing", missing, "err", err)
			lastErr = err.Error()
		}
		retry.Reset(peerRetry)
	}
}

// wantedFiles lists every file of every image, kernels and initrds first
// (a machine booting needs them before a rootfs).
func wantedFiles(snap *registry.Snapshot) []images.Want {
	var want []images.Want
	for _, img := range snap.Images() {
		for role, f := range img.Files {
			want = append(want, images.Want{Image: img.Name, Role: role, SHA256: f.SHA256})
		}
	}
	rank := func(role string) int {
		switch role {
		case "kernel", "initrd":
			return 0
		}
		return 1
	}
	sort.SliceStable(want, func(i, j int) bool { return rank(want[i].Role) < rank(want[j].Role) })
	return want
}
