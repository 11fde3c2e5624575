package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/lab/demo"
)

// newDemo is `provision demo`: the demo lab, package demo, run from the
// flags; Ctrl-C ends it.
func newDemo() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo [--once] [--accel auto|kvm|tcg]",
		Short: "Run the demo lab: a diskless LVS host and an installed host boot as VMs from the appliance",
		Long: `Run the demo lab (as root): a private network namespace with a bridge, the
appliance in it (DHCP, TFTP, HTTP, DNS on the bridge), and two QEMU VMs that
network-boot from it:
  lvs01  diskless: the busybox LVS role, booted into tmpfs; its boot hook
         writes keepalived.conf from its settings (read offline from
         data.cdb), then reads lvs.vrid again over the appliance's DNS
  web01  installed: the lab installer fetches its template, writes the
         disk and reports done; the next boot is from the disk
The live view prints every boot event as it happens, then the keepalived.conf
lines that lvs01 wrote, read back from its console, and web01 reaching
"installed". Ctrl-C, or the end with --once, removes every namespace, tap,
process and file the demo made.

It uses KVM when a short probe boot under KVM works (it does not on every
machine with /dev/kvm), TCG otherwise, and says which. It needs the Debian
packages qemu-system-x86, ipxe-qemu, busybox-static, iproute2, and apt (it
downloads the current Debian kernel package once, into
/var/cache/provision-lab), and a static zonecfg next to this program
(CGO_ENABLED=0 go build). scripts/demo installs them, builds, and runs it.`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			o := demo.Options{Exe: exe}
			o.Once, _ = c.Flags().GetBool("once")
			o.Accel, _ = c.Flags().GetString("accel")
			o.Timeout, _ = c.Flags().GetDuration("timeout")
			o.Verbose, _ = c.Flags().GetBool("verbose")
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return demo.Run(ctx, c.OutOrStdout(), o)
		},
	}
	c.Flags().Bool("once", false, "boot both VMs, check what they did, clean up and exit (0: all went as expected)")
	c.Flags().String("accel", "auto", "auto (KVM if a probe boot works), kvm or tcg")
	c.Flags().Duration("timeout", 10*time.Minute, "how long the VMs have to get there")
	c.Flags().Bool("verbose", false, "also print the lab's own log")
	return c
}
