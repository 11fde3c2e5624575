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

	"github.com/pin/tftp/v3"
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
}

// Hosts finds the boot config of a host by the MAC in a requested name.
// It is called concurrently, once per request for a per-host file.
type Hosts interface {
	BootConfigByMAC(mac net.HardwareAddr) (BootConfig, bool)
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
	// MaxTransfers bounds the transfers in flight; a request beyond it
	// is refused at once (ErrBusy), so a flood of requests cannot hold
	// every goroutine and file. 0 means DefaultMaxTransfers.
	MaxTransfers int
}

// DefaultMaxTransfers is MaxTransfers when the Config says 0: above a
// thousand machines powered on at once (each holds one transfer for a
// second or so; a PXE ROM refused gives up, so the cap is for floods,
// not for storms). bench/storm.sh refused machines at 512.
const DefaultMaxTransfers = 2048

// readBuffer is the request socket's kernel buffer: a storm of read
// requests arrives at once, and the default (about 200 KiB) dropped
// hundreds of them in bench/storm.sh.
const readBuffer = 4 << 20

// ErrBusy: MaxTransfers transfers are already in flight.
var ErrBusy = errors.New("tftp: too many transfers in flight")

// Server is a read-only TFTP server. It holds no state between requests.
type Server struct {
	root       string
	hosts      Hosts
	images     Images
	timeout    time.Duration
	onTransfer func(Transfer)
	log        *slog.Logger
	slots      chan struct{} // one token per transfer in flight
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
	max := cfg.MaxTransfers
	if max <= 0 {
		max = DefaultMaxTransfers
	}
	s := &Server{root: cfg.Root, hosts: cfg.Hosts, images: cfg.Images, timeout: cfg.Timeout,
		onTransfer: cfg.OnTransfer, log: cfg.Log, slots: make(chan struct{}, max)}
	if s.hosts == nil {
		s.hosts = noHosts{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Serve answers requests arriving on conn until ctx is cancelled, then waits
// for the transfers in flight to end and returns nil. Serve owns conn and
// closes it. A transfer in flight stops at its next block once ctx is done.
func (s *Server) Serve(ctx context.Context, conn *net.UDPConn) error {
	defer conn.Close()
	conn.SetReadBuffer(readBuffer) // the kernel caps it at net.core.rmem_max
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return fmt.Errorf("tftp: %w", err)
	}
	defer root.Close()
	h := &handler{srv: s, ctx: ctx, root: root}
	ts := tftp.NewServer(h.read, h.write)
	ts.SetTimeout(s.timeout)
	ts.SetBackoff(func(int) time.Duration { return 0 }) // no random pause on top of Timeout
	done := make(chan error, 1)
	go func() { done <- ts.Serve(conn) }()
	select {
	case <-ctx.Done():
		ts.Shutdown()
		<-done
		return nil
	case err := <-done:
		ts.Shutdown()
		if err == nil {
			err = errors.New("stopped")
		}
		return fmt.Errorf("tftp: serve %s: %w", conn.LocalAddr(), err)
	}
}

type noHosts struct{}

func (noHosts) BootConfigByMAC(net.HardwareAddr) (BootConfig, bool) {
	return BootConfig{}, false
}
