package tftp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/provision/provision/internal/ratelimit"
)

// BootConfig is what a generated per-host file needs to know about one host.
type BootConfig struct {
	Name    string // system name
	Netboot bool   // false: boot from local disk
	Kernel  string // URL or TFTP path of the kernel
	Initrd  string // URL or TFTP path of the initrd
	Args    string // kernel command line
	// Err, when set, says why the host's config cannot be made (its
	// kernel command line is refused): a request for it fails with Err.
	Err error
	// Withheld, with Netboot false, says that the host is being
	// installed but the request did not come from the machine itself:
	// the config boots the local disk and says why.
	Withheld bool
}

// Hosts finds the boot config of a host by the MAC in a requested name,
// as asked for from client (which decides BootConfig.Withheld). It is
// called concurrently, once per request for a per-host file.
type Hosts interface {
	BootConfigByMAC(mac net.HardwareAddr, client netip.Addr) (BootConfig, bool)
}

// Images opens the kernel and initrd of the appliance's images, served as
// images/IMAGE/kernel and images/IMAGE/initrd: Debian's signed GRUB has
// no HTTP, so the generated GRUB configs name them over TFTP. Open
// returns an error wrapping fs.ErrNotExist for an unknown image or file.
type Images interface {
	OpenImageFile(image, role string) (*os.File, error)
}

// Transfer is one request as the appliance puts it on a host's timeline.
type Transfer struct {
	Client   netip.Addr       // the client's IP address
	File     string           // the name as the client sent it
	MAC      net.HardwareAddr // the MAC in a per-host config name, else nil
	Role     string           // "kernel" or "initrd" for an image's file (Config.Images), else ""
	Bytes    int64            // bytes of the file sent (acknowledged or not)
	Duration time.Duration    // from the request to the last packet
	// Err is nil for a complete transfer. A refused request wraps
	// fs.ErrNotExist (TFTP error 1) or fs.ErrPermission (TFTP error 2).
	Err error
}

// Config configures a Server.
type Config struct {
	Root  string // directory of boot loaders and other static files
	Hosts Hosts  // source of per-host configs; nil: every MAC is unknown
	// Images serves images/IMAGE/{kernel,initrd}; nil: those names are
	// not found.
	Images Images
	// Timeout is how long a transfer waits for each acknowledgement before
	// it resends the packet: a client that stops acknowledging loses its
	// transfer after 6 × Timeout (the send and 5 resends). 0 means 5 s.
	Timeout time.Duration
	// OnTransfer, if set, is called once per request after its last packet,
	// on the transfer's own goroutine: it must not block (send on a buffered
	// channel with select/default, for example), or it holds that goroutine
	// and delays Serve's return.
	OnTransfer func(Transfer)
	Log        *slog.Logger // nil: discard
	// MaxTransfers bounds the transfers in flight, MaxPerClient those of
	// one client (an IPv4 address, an IPv6 /64). A request beyond either
	// is refused at once (ErrBusy), except that when every slot is taken
	// the oldest transfer still waiting for its first acknowledgement
	// gives way to it: a forged request is never acknowledged. 0 means
	// DefaultMaxTransfers, DefaultMaxPerClient.
	MaxTransfers, MaxPerClient int
	// FirstACKTimeout is how long, while more than half of MaxTransfers
	// are in flight, a transfer waits in all for its client's first
	// acknowledgement before it is dropped; a client that answers does
	// within a round trip. 0 means DefaultFirstACKTimeout.
	FirstACKTimeout time.Duration
}

// Defaults of the Config's limits. DefaultMaxTransfers is above a
// thousand machines powered on at once (each holds one transfer for a
// second or so; a PXE ROM refused gives up, so the cap is for floods, not
// for storms; bench/storm.sh refused machines at 512). A machine fetches
// one file at a time; DefaultMaxPerClient leaves room for a few behind
// one address (NAT) and is far below the slots a flood could take.
const (
	DefaultMaxTransfers    = 2048
	DefaultMaxPerClient    = 16
	DefaultFirstACKTimeout = time.Second
)

// readBuffer is the request socket's kernel buffer: a storm of read
// requests arrives at once, and the default (about 200 KiB) dropped
// hundreds of them in bench/storm.sh.
const readBuffer = 4 << 20

// ErrBusy: the transfers in flight, or those of the client, are at their
// limit.
var ErrBusy = errors.New("tftp: too many transfers in flight")

// Server is a read-only TFTP server. It holds no state between requests.
type Server struct {
	root       string
	hosts      Hosts
	images     Images
	timeout    time.Duration
	firstACK   time.Duration
	onTransfer func(Transfer)
	log        *slog.Logger
	slots      *slots
	// refusals limits the requests refused at the request port (busy, a
	// write, an unknown mode, a malformed packet) that are logged and
	// reported, per client: a flood is answered, not written down packet
	// by packet.
	refusals *ratelimit.Limiter
}

// New checks the config and returns a Server; Root must be a directory.
func New(cfg Config) (*Server, error) {
	fi, err := os.Stat(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("tftp: root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("tftp: root %s is not a directory", cfg.Root)
	}
	s := &Server{root: cfg.Root, hosts: cfg.Hosts, images: cfg.Images,
		timeout:    orDefault(cfg.Timeout, 5*time.Second),
		firstACK:   orDefault(cfg.FirstACKTimeout, DefaultFirstACKTimeout),
		onTransfer: cfg.OnTransfer, log: cfg.Log,
		slots: newSlots(orDefault(cfg.MaxTransfers, DefaultMaxTransfers),
			orDefault(cfg.MaxPerClient, DefaultMaxPerClient)),
		refusals: ratelimit.New(1, 5, 4096),
	}
	if s.hosts == nil {
		s.hosts = noHosts{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Serve answers requests arriving on conn until ctx is cancelled, then
// stops the transfers in flight, waits for them to end and returns nil.
// Serve owns conn and closes it.
func (s *Server) Serve(ctx context.Context, conn *net.UDPConn) error {
	defer conn.Close()
	conn.SetReadBuffer(readBuffer) // the kernel caps it at net.core.rmem_max
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return fmt.Errorf("tftp: %w", err)
	}
	defer root.Close()
	h := &handler{srv: s, ctx: ctx, root: root, conn: newRequestConn(conn)}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	err = h.loop()
	h.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("tftp: serve %s: %w", conn.LocalAddr(), err)
}

type noHosts struct{}

func (noHosts) BootConfigByMAC(net.HardwareAddr, netip.Addr) (BootConfig, bool) {
	return BootConfig{}, false
}
