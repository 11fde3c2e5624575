// Command provision-agent is the inventory agent: in the boot
// environment of a machine that booted on a discovery subnet (or that
// its appliance is inspecting), it gathers the machine's hardware
// (package inventory/collect), posts it to the appliance and does what
// the appliance says (package inventory/agent): wait, create the BMC
// user in-band, power off or reboot. It is built static (CGO_ENABLED=0)
// for the initramfs.
//
//	provision-agent [--server URL] [--mac MAC] [--token T] [--lldp-wait 40s] [--no-power]
//	provision-agent --once [--lldp-wait 0s]    print the inventory as JSON, post nothing
//
// The server, MAC and token default to provision.server=,
// provision.mac= and provision.inspect= of the kernel command line.
// Exit status: 0 powered off, rebooted or printed; 1 an error; 2 a usage
// error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/provision/provision/inventory"
	"github.com/provision/provision/inventory/agent"
	"github.com/provision/provision/inventory/collect"
)

// version is set by the build (-X main.version=).
var version = "dev"

type options struct {
	server, mac, token, ipmi, cmdline string
	lldpWait                          time.Duration
	noPower, once                     bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "provision-agent: %v\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "provision-agent: %v\n", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("provision-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "", "the appliance's URL (default: provision.server= of the kernel command line)")
	fs.StringVar(&o.mac, "mac", "", "the MAC the machine booted from (default: provision.mac=)")
	fs.StringVar(&o.token, "token", "", "the inspection token of a registered system (default: provision.inspect=)")
	fs.DurationVar(&o.lldpWait, "lldp-wait", collect.DefaultLLDPWait, "how long to listen for LLDP frames on each NIC (0: not at all)")
	fs.BoolVar(&o.noPower, "no-power", false, "print a poweroff or reboot instead of doing it")
	fs.BoolVar(&o.once, "once", false, "print the inventory as JSON and post nothing")
	fs.StringVar(&o.ipmi, "ipmi-device", collect.DefaultIPMIDevice, "the in-band IPMI device (-: none)")
	fs.StringVar(&o.cmdline, "cmdline", "/proc/cmdline", "the kernel command line to read defaults from")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if o.lldpWait == 0 {
		o.lldpWait = -1 // collect.Options: negative is "do not listen"
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	kargs := kernelArgs(o.cmdline)
	o.server, o.token = first(o.server, kargs["provision.server"]), first(o.token, kargs["provision.inspect"])
	if o.mac = first(o.mac, kargs["provision.mac"]); o.mac != "" {
		if o.mac, err = parseMAC(o.mac); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	gather := func(ctx context.Context) inventory.Inventory {
		return collect.Collect(ctx, collect.Options{MAC: o.mac, LLDPWait: o.lldpWait, IPMIDevice: o.ipmi, Agent: version})
	}
	if o.once {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(gather(ctx))
	}
	if o.server == "" {
		return fmt.Errorf("%w: no --server and no provision.server= on the kernel command line", errUsage)
	}
	if o.mac == "" {
		return fmt.Errorf("%w: no --mac and no provision.mac= on the kernel command line", errUsage)
	}
	power := powerOff
	if o.noPower {
		power = func(action string) error { fmt.Fprintf(stdout, "%s\n", action); return nil }
	}
	return agent.Run(ctx, agent.Config{
		Server: o.server, MAC: o.mac, Token: o.token, Collect: gather,
		Power: power, Log: stderr, IPMI: agent.InBand(o.ipmi),
	})
}

// powerOff syncs the disks and powers the machine off or reboots it.
func powerOff(action string) error {
	cmd := unix.LINUX_REBOOT_CMD_POWER_OFF
	if action == inventory.ActionReboot {
		cmd = unix.LINUX_REBOOT_CMD_RESTART
	}
	unix.Sync()
	return unix.Reboot(cmd)
}

// kernelArgs are the key=value words of the kernel command line in
// path ("" values for a missing file).
func kernelArgs(path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, w := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(w, "="); ok {
			m[k] = v
		}
	}
	return m
}

// parseMAC reads a MAC as 52:54:00:12:34:56, or as pxelinux's BOOTIF
// (01-52-54-00-12-34-56), in lower case with colons.
func parseMAC(s string) (string, error) {
	if len(s) == 20 && strings.HasPrefix(s, "01-") {
		s = s[3:]
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return "", fmt.Errorf("mac %q: not an Ethernet MAC", s)
	}
	return hw.String(), nil
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
