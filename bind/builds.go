package bind

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

// Lifecycle is the part of the registry that records a build's progress;
// *registry.Registry satisfies it.
type Lifecycle interface {
	Registry
	BuildStarted(ctx context.Context, token, note string) (*registry.System, error)
	BuildDone(ctx context.Context, token, note string) (*registry.System, error)
	BuildFailed(ctx context.Context, token, note string, log *registry.InstallLog) (*registry.System, error)
}

// Builds serves the installers' template handler (kickstart.Builds).
// DNS is the name server written into templates of hosts whose subnet
// names none (the appliance, as DHCP hands out).
type Builds struct {
	Reg  Lifecycle
	DNS  string
	Seen *Seen            // addresses DHCP saw the systems at (proxyDHCP); nil: none
	Now  func() time.Time // time.Now when nil
}

var _ kickstart.Builds = Builds{}

func (b Builds) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// ByToken implements kickstart.Builds. A build belongs to its machine: the
// token is taken only from the system's own address (Seen.FromItself: its
// registered IP, or the address DHCP saw it at behind a proxyDHCP), never
// from another address, which may be anyone who learnt the token.
func (b Builds) ByToken(token string, client netip.Addr) (kickstart.Build, bool) {
	snap := b.Reg.Snapshot()
	sys, ok := snap.BuildByToken(token, b.now())
	if !ok || !b.Seen.FromItself(sys, client) {
		return kickstart.Build{}, false
	}
	return b.build(snap, sys)
}

// ByIP implements kickstart.Builds: the build of the system with ip.
func (b Builds) ByIP(ip netip.Addr) (kickstart.Build, bool) {
	snap := b.Reg.Snapshot()
	sys, ok := snap.SystemByIP(ip)
	if !ok {
		return kickstart.Build{}, false
	}
	if sys, ok = snap.BuildByToken(string(sys.BuildToken), b.now()); !ok {
		return kickstart.Build{}, false
	}
	return b.build(snap, sys)
}

func (b Builds) build(snap *registry.Snapshot, sys *registry.System) (kickstart.Build, bool) {
	p, ok := snap.Profile(sys.Profile)
	if !ok || p.Kickstart == "" {
		return kickstart.Build{}, false
	}
	d := TemplateData(snap, sys, kickstart.URLs{}, b.DNS)
	return kickstart.Build{System: sys.Name, Token: string(sys.BuildToken), Template: p.Kickstart,
		Set: snap.Templates(), Data: d, Since: sys.StatusSince}, true
}

// TemplateData is what sys's template sees (registry.Snapshot.TemplateData),
// with dns, the appliance, as name server when sys's subnet names none:
// what DHCP hands out.
func TemplateData(snap *registry.Snapshot, sys *registry.System, urls kickstart.URLs, dns string) kickstart.Data {
	d := snap.TemplateData(sys, urls)
	if len(d.System.DNS) == 0 && dns != "" {
		d.System.DNS = []string{dns}
	}
	return d
}

// Started implements kickstart.Builds.
func (b Builds) Started(ctx context.Context, token string) error {
	_, err := b.Reg.BuildStarted(ctx, token, "template fetched")
	return noBuild(err)
}

// Done implements kickstart.Builds.
func (b Builds) Done(ctx context.Context, token string) error {
	_, err := b.Reg.BuildDone(ctx, token, "the installer reported success")
	return noBuild(err)
}

// Failed implements kickstart.Builds.
func (b Builds) Failed(ctx context.Context, token string, log []byte, size int64) error {
	_, err := b.Reg.BuildFailed(ctx, token, "the installer reported failure", &registry.InstallLog{Size: size, Log: log})
	return noBuild(err)
}

// noBuild maps the registry's "no such build" to kickstart.ErrNoBuild.
func noBuild(err error) error {
	if errors.Is(err, registry.ErrNotFound) {
		return errors.Join(kickstart.ErrNoBuild, err)
	}
	return err
}
