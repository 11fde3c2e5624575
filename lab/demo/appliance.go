package demo

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/lab"
)

// appliance is `provision serve` running in the server namespace of n,
// and the CLI pointed at it.
type appliance struct {
	ctx    context.Context
	n      *lab.Net
	exe    string
	server string // its address, n.ServerIP
	token  string
}

// startAppliance runs the appliance in n's server namespace, with DHCP,
// TFTP, HTTP and DNS on the bridge, and waits until it is ready.
func (d *demo) startAppliance(ctx context.Context, n *lab.Net) (*appliance, error) {
	data, err := d.env.TempDir()
	if err != nil {
		return nil, err
	}
	server := n.ServerIP.String()
	proc, err := d.env.Exec(n, d.o.Exe, "serve", "--data", data, "--zone", "demo", "--address", server,
		"--http", server+":80", "--dns", server+":53", "--tftp", server+":69", "--dhcp-interface", lab.ServerIface,
		"--zonecfg", d.zonecfg)
	if err != nil {
		return nil, err
	}
	if _, err := proc.WaitFor(regexp.MustCompile(`msg=ready`), time.Minute); err != nil {
		return nil, fmt.Errorf("the appliance did not start: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		return nil, err
	}
	return &appliance{ctx: ctx, n: n, exe: d.o.Exe, server: server, token: strings.TrimSpace(string(tok))}, nil
}

// command is the CLI with args, run in the server namespace against the
// appliance, killed if the demo's context ends.
func (a *appliance) command(args ...string) *exec.Cmd {
	cmd := a.n.CommandContext(a.ctx, append([]string{a.exe}, args...)...)
	cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+a.server, "PROVISION_TOKEN="+a.token)
	return cmd
}

// run runs the CLI to completion and returns what it printed.
func (a *appliance) run(args ...string) (string, error) {
	b, err := a.command(args...).CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("provision %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return string(b), nil
}

// runAll runs CLI calls in turn until one fails.
func (a *appliance) runAll(calls ...[]string) error {
	for _, args := range calls {
		if _, err := a.run(args...); err != nil {
			return err
		}
	}
	return nil
}

// followEvents prints every event the appliance records, as it happens
// (provision events --follow), until the demo ends.
func (d *demo) followEvents(a *appliance) error {
	follow := a.command("events", "--follow")
	pipe, err := follow.StdoutPipe()
	if err != nil {
		return err
	}
	if err := follow.Start(); err != nil {
		return err
	}
	d.env.Defer(func() { follow.Process.Kill(); follow.Wait() })
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			d.p.say("  %s", sc.Text())
		}
	}()
	return nil
}

// zonecfg returns the static zonecfg the demo's appliance carries into
// diskless boot environments: o.Zonecfg, else the one next to o.Exe,
// else the one on PATH (the appliance's own default, made explicit).
func (o Options) zonecfg() (string, error) {
	z := o.Zonecfg
	if z == "" {
		z = filepath.Join(filepath.Dir(o.Exe), "zonecfg")
		if _, err := os.Stat(z); err != nil {
			z, _ = exec.LookPath("zonecfg")
		}
	}
	err := fmt.Errorf("no zonecfg")
	if z != "" {
		err = bootenv.Static(z)
	}
	if err != nil {
		return "", fmt.Errorf("the boot environment needs a static zonecfg next to %s or on PATH (CGO_ENABLED=0 go build -o %s ./cmd/zonecfg): %w",
			o.Exe, filepath.Join(filepath.Dir(o.Exe), "zonecfg"), err)
	}
	return z, nil
}
