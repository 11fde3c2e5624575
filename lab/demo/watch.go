package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/provision/provision/lab"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/roles"
)

// watchLVS waits for lvs01's role to come up and prints the
// keepalived.conf lines its hook wrote.
func (d *demo) watchLVS(vm *lab.VM, deadline time.Time) error {
	conf := regexp.MustCompile(`keepalived\.conf: .*`)
	for _, want := range []struct{ what, re string }{
		{"keepalived.conf with its own virtual_router_id", `keepalived\.conf: +virtual_router_id 100`},
		{"lvs.vrid over live DNS", `lvs\.vrid over DNS: 100`},
		{"data.cdb deleted", roles.CDBMarker + ` absent`},
		{"the role up", roles.UpMarker},
	} {
		if _, err := vm.WaitFor(regexp.MustCompile(want.re), time.Until(deadline)); err != nil {
			return fmt.Errorf("lvs01: %s: %w", want.what, err)
		}
	}
	d.p.say("lvs01 wrote, at boot, from its settings (read back from its console):")
	for _, l := range vm.Lines() {
		if m := conf.FindString(l); m != "" {
			d.p.say("  lvs01 | %s", m)
		}
	}
	d.p.say("lvs01 read lvs.vrid=100 again over DNS, deleted data.cdb and is up")
	return nil
}

// watchWeb waits for web01 to be installed and to boot its disk.
func (d *demo) watchWeb(ctx context.Context, vm *lab.VM, app *appliance, deadline time.Time) error {
	for time.Now().Before(deadline) {
		out, err := app.run("system", "show", "web01", "--json")
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		var sys registry.System
		json.Unmarshal([]byte(out), &sys)
		if sys.Status == registry.StateInstalled {
			d.p.say("web01 is %s", sys.Status)
			break
		}
		if sys.Status == registry.StateFailed {
			return fmt.Errorf("web01: its build failed")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err := vm.WaitDiskBooted(time.Until(deadline)); err != nil {
		return fmt.Errorf("web01: %w", err)
	}
	d.p.say("web01 booted from its disk")
	return nil
}
