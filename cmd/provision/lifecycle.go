package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newReinstall() *cobra.Command {
	c := &cobra.Command{
		Use:   "reinstall NAME [--wait]",
		Short: "Start a new build: the next network boot runs the installer",
		Long: `Start a new build of a system: its state becomes pending with a fresh build
token and deadline (the profile's --install-timeout, default 60m), and
netboot is turned on. The next network boot runs the profile's installer,
pointed at the rendered template; the installer's done callback makes the
system installed (and turns netboot off), its failed callback or the
deadline make it failed. Either way later boots boot the local disk until
the next reinstall.

With --wait, follow the build with a progress line until it ends: exit 0
when installed, 1 when failed or past its deadline (printing the end of
the installer's log when it sent one).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			wait, _ := c.Flags().GetBool("wait")
			cl := client(c)
			var sys registry.System
			start := func() error { return cl.Do(ctx(c), "POST", api.Path("systems", a[0], "reinstall"), nil, &sys) }
			if !wait {
				if err := start(); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "%s: pending until %s\n", sys.Name, localTime(sys.Deadline))
				return nil
			}
			return waitBuild(c, cl, a[0], start)
		},
	}
	c.Flags().Bool("wait", false, "follow the build until it ends (exit 0 installed, 1 failed)")
	return c
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

// errBuildEnded stops the events stream when the build ended.
var errBuildEnded = errors.New("build ended")

// waitBuild opens the events stream of the system, starts the build, and
// prints a progress line per event until the system is installed or
// failed. The state is also polled, in case the stream misses the end.
func waitBuild(c *cobra.Command, cl *api.Client, name string, start func() error) error {
	out := c.OutOrStdout()
	live := isTerminal(out)
	cx, cancel := context.WithCancel(ctx(c))
	defer cancel()
	started := make(chan error, 1)
	var sys registry.System
	progress := func(e registry.Event) {
		line := fmt.Sprintf("%s  %s  %-10s %s", name, e.At.Local().Format("15:04:05"), e.Kind, e.Detail)
		if live {
			fmt.Fprintf(out, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(out, line)
		}
	}
	go func() {
		err := cl.Follow(cx, name, func() { started <- start() }, func(e registry.Event) error {
			progress(e)
			if e.Kind == "done" || e.Kind == "failed" {
				return errBuildEnded
			}
			return nil
		})
		if !errors.Is(err, errBuildEnded) && !errors.Is(err, context.Canceled) {
			select {
			case started <- err:
			default:
			}
		}
		cancel()
	}()
	if err := <-started; err != nil {
		return err
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	ended := cx.Done() // the stream saw the end (or broke): poll now
	for {
		if err := cl.Do(ctx(c), "GET", api.Path("systems", name), nil, &sys); err != nil {
			return err
		}
		if sys.Status == registry.StateInstalled || sys.Status == registry.StateFailed {
			break
		}
		select {
		case <-ended:
			ended = nil
		case <-tick.C:
		case <-ctx(c).Done():
			return ctx(c).Err()
		}
	}
	if live {
		fmt.Fprintln(out)
	}
	if sys.Status == registry.StateInstalled {
		fmt.Fprintf(out, "%s: installed\n", name)
		return nil
	}
	printLogTail(c, cl, name)
	return fmt.Errorf("system %s: the build failed (see provision history %s)", name, name)
}

// printLogTail prints the last lines of the installer's log, if it sent one.
func printLogTail(c *cobra.Command, cl *api.Client, name string) {
	var log bytes.Buffer
	if err := cl.Raw(ctx(c), "GET", api.Path("systems", name, "install-log"), "", nil, -1, &log); err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(log.String(), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	fmt.Fprintf(c.ErrOrStderr(), "the end of the installer's log of %s:\n", name)
	for _, l := range lines {
		fmt.Fprintln(c.ErrOrStderr(), "  "+l)
	}
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
				_, err := fmt.Fprintf(c.OutOrStdout(), "%s  %-12s %-9s %s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), e.System, e.Kind, e.Detail)
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
