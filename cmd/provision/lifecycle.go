package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/registry"
)

func newReinstall() *cobra.Command {
	c := &cobra.Command{
		Use:   "reinstall NAME... [--profile P] [--wait [--timeout D]]",
		Short: "Start a new build: power-cycle the machine (through its BMC) into its installer",
		Long: `Start a new build of a system: its state becomes pending with a fresh build
token and deadline (the profile's --install-timeout, default 60m), and
netboot is turned on. When the system has a BMC, the appliance asks it to
boot from the network once (a BMC that refuses is noted and ignored: the
appliance decides what a network boot does) and power-cycles the machine,
or powers it on when it is off; without one, reboot it by hand. The next
network boot runs the profile's installer, pointed at the rendered
template; the installer's done callback makes the system installed (and
turns netboot off), its failed callback or the deadline make it failed
(and power it off, unless the profile says --on-failure keep). Either way
later boots boot the local disk until the next reinstall.

Several names, or --profile P (every system of profile P), are reinstalled
side by side, 8 at a time, with a summary at the end.

With --wait, follow each build with a progress line until it ends: exit 0
when all are installed, 1 when one failed, passed its deadline or is not
done after --timeout (printing the end of the installer's log when it
sent one).`,
		Args: args(cobra.ArbitraryArgs),
		RunE: runReinstall,
	}
	c.Flags().Bool("wait", false, "follow the builds until they end (exit 0 installed, 1 failed)")
	c.Flags().Duration("timeout", 0, "with --wait: give up waiting after this long (default: the build's deadline)")
	c.Flags().String("profile", "", "reinstall every system of this profile")
	return c
}

// reinstallLimit bounds the reinstalls started at once.
const reinstallLimit = 8

func runReinstall(c *cobra.Command, names []string) error {
	cl := client(c)
	if p, _ := c.Flags().GetString("profile"); p != "" {
		var all []registry.System
		if err := cl.Do(ctx(c), "GET", api.Path("systems"), nil, &all); err != nil {
			return err
		}
		for _, s := range all {
			if s.Profile == p {
				names = append(names, s.Name)
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("profile %s has no systems", p)
		}
	}
	if len(names) == 0 {
		return usage(errors.New("give the systems to reinstall, or --profile P"))
	}
	if len(names) == 1 {
		return reinstallOne(c, cl, names[0], isTerminal(c.OutOrStdout()))
	}
	results := make([]error, len(names))
	var g errgroup.Group
	g.SetLimit(reinstallLimit)
	for i, name := range names {
		g.Go(func() error { results[i] = reinstallOne(c, cl, name, false); return nil })
	}
	g.Wait()
	tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
	row(tw, "SYSTEM", "RESULT")
	failed := 0
	for i, name := range names {
		res := "ok"
		if results[i] != nil {
			res, failed = results[i].Error(), failed+1
		}
		row(tw, name, res)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("%d of %d reinstalls failed", failed, len(names))
	}
	return nil
}

// reinstallOne starts one build (and with --wait follows it).
func reinstallOne(c *cobra.Command, cl *api.Client, name string, live bool) error {
	var res api.ReinstallResult
	start := func() error {
		if err := cl.Do(ctx(c), "POST", api.Path("systems", name, "reinstall"), nil, &res); err != nil {
			return err
		}
		line := fmt.Sprintf("%s: pending until %s", name, localTime(res.System.Deadline))
		switch {
		case res.Power != "":
			line += "; power " + res.Power + " through its BMC"
		case res.PowerError != "":
			line += "; the BMC failed (" + res.PowerError + "): reboot it by hand"
		default:
			line += "; no BMC: reboot it by hand"
		}
		fmt.Fprintln(c.OutOrStdout(), line)
		return nil
	}
	if wait, _ := c.Flags().GetBool("wait"); !wait {
		return start()
	}
	timeout, _ := c.Flags().GetDuration("timeout")
	return waitBuild(c, cl, name, start, live, timeout)
}

func newAbort() *cobra.Command {
	return &cobra.Command{
		Use:   "abort NAME",
		Short: "End a system's build under way: failed, its token revoked, the next boot boots the local disk",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var sys registry.System
			if err := client(c).Do(ctx(c), "POST", api.Path("systems", a[0], "abort"), nil, &sys); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: %s\n", sys.Name, sys.Status)
			return nil
		},
	}
}

func newNetboot() *cobra.Command {
	return &cobra.Command{
		Use:   "netboot NAME on|off",
		Short: "Turn a system's network boot on or off, nothing else changed (an operator may; system edit needs an admin)",
		Long: `Turn a system's network boot on (its next boot runs its profile's boot
from the network) or off (the boot script boots the local disk), and change
nothing else of it. It takes the build right (operator), as reinstall does;
"system edit --netboot" does the same but takes the edit right (admin).`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, a []string) error {
			on, err := parseOnOff(a[1])
			if err != nil {
				return err
			}
			var sys registry.System
			if err := client(c).Do(ctx(c), "POST", api.Path("systems", a[0], "netboot"), api.NetbootInput{Netboot: &on}, &sys); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: netboot %v\n", sys.Name, sys.Netboot)
			return nil
		},
	}
}

// parseOnOff reads "on" or "off".
func parseOnOff(s string) (bool, error) {
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, usage(fmt.Errorf("netboot %q: say on or off", s))
}

// waitBuild starts the build, prints a progress line per event until the
// system is installed or failed, and on failure the end of the
// installer's log.
func waitBuild(c *cobra.Command, cl *api.Client, name string, start func() error, live bool, timeout time.Duration) error {
	out := c.OutOrStdout()
	progress := func(e registry.Event) {
		line := fmt.Sprintf("%s  %s  %-10s %s", name, e.At.Local().Format("15:04:05"), textsafe.Strip(e.Kind), textsafe.Strip(e.Detail))
		if live {
			fmt.Fprintf(out, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(out, line)
		}
	}
	sys, err := cl.WaitBuild(ctx(c), name, start, progress, timeout)
	if err != nil {
		return err
	}
	if live {
		fmt.Fprintln(out)
	}
	if sys.Status == registry.StateInstalled {
		fmt.Fprintf(out, "%s: installed\n", name)
		return nil
	}
	if lines := cl.InstallLogTail(ctx(c), name, 20); len(lines) > 0 {
		fmt.Fprintf(c.ErrOrStderr(), "the end of the installer's log of %s:\n", name)
		for _, l := range lines {
			fmt.Fprintln(c.ErrOrStderr(), "  "+textsafe.Strip(l))
		}
	}
	return fmt.Errorf("system %s: the build failed (see provision history %s)", name, name)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newEvents() *cobra.Command {
	c := &cobra.Command{
		Use:   "events [--follow] [--system NAME] [--limit N] [--json]",
		Short: "Print every system's boot and build events, one line each (--follow: as they happen)",
		Args:  args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			system, _ := c.Flags().GetString("system")
			limit, _ := c.Flags().GetInt("limit")
			follow, _ := c.Flags().GetBool("follow")
			cl := client(c)
			print := func(e registry.Event) error {
				if asJSON(c) {
					return printJSON(c.OutOrStdout(), e)
				}
				_, err := fmt.Fprintf(c.OutOrStdout(), "%s  %-12s %-9s %s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), textsafe.Strip(e.System), textsafe.Strip(e.Kind), textsafe.Strip(e.Detail))
				return err
			}
			if follow {
				return cl.Follow(ctx(c), system, nil, print)
			}
			var evs []registry.Event
			path := fmt.Sprintf("%s?limit=%d&system=%s", api.Path("events"), limit, url.QueryEscape(system))
			if err := cl.Do(ctx(c), "GET", path, nil, &evs); err != nil {
				return err
			}
			for _, e := range evs {
				if err := print(e); err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().Bool("follow", false, "stream events as they happen, until interrupted")
	c.Flags().String("system", "", "only this system's events")
	c.Flags().Int("limit", 100, "how many recent events (without --follow)")
	c.Flags().Bool("json", false, "print JSON, one object per event")
	return c
}

// localTime shows an RFC 3339 time in the local zone ("-" when empty).
func localTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return or(s, "-")
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
