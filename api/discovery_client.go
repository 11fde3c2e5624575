package api

import (
	"context"
	"net/url"

	"github.com/provision/provision/registry"
)

// Machines reads every machine that reported an inventory, page by page:
// state "" all, or registry.MachineDiscovered / MachineRegistered.
func (c *Client) Machines(ctx context.Context, state string) ([]registry.Machine, error) {
	path := Path("machines")
	if state != "" {
		path += "?" + url.Values{"state": {state}}.Encode()
	}
	out := []registry.Machine{}
	err := Pages(ctx, c, path, func(page []registry.Machine) bool {
		out = append(out, page...)
		return true
	})
	return out, err
}

// Machine reads one machine by its boot MAC or DMI serial.
func (c *Client) Machine(ctx context.Context, key string) (*registry.Machine, error) {
	var m registry.Machine
	return &m, c.Do(ctx, "GET", Path("machines", key), nil, &m)
}

// RemoveMachine forgets a machine and its inventory.
func (c *Client) RemoveMachine(ctx context.Context, key string) error {
	return c.Do(ctx, "DELETE", Path("machines", key), nil, nil)
}

// AcceptMachine makes a discovered machine a system; with Reinstall the
// answer says what its BMC was told.
func (c *Client) AcceptMachine(ctx context.Context, key string, in AcceptInput) (*ReinstallResult, error) {
	var out ReinstallResult
	return &out, c.Do(ctx, "POST", Path("machines", key, "accept"), in, &out)
}

// WatchMachine asks a machine's agent to stay up (or not) and answers
// the machine.
func (c *Client) WatchMachine(ctx context.Context, key string, watch bool) (*registry.Machine, error) {
	var m registry.Machine
	return &m, c.Do(ctx, "POST", Path("machines", key, "watch"), map[string]bool{"watch": watch}, &m)
}

// Rules reads the discovery rules, in priority order.
func (c *Client) Rules(ctx context.Context) ([]registry.Rule, error) {
	var out []registry.Rule
	return out, c.Do(ctx, "GET", Path("rules"), nil, &out)
}

// AddRule adds a discovery rule and answers it as stored.
func (c *Client) AddRule(ctx context.Context, x registry.Rule) (*registry.Rule, error) {
	var out registry.Rule
	return &out, c.Do(ctx, "POST", Path("rules"), x, &out)
}

// TestRule says what rule name would do now with the machine key,
// writing nothing.
func (c *Client) TestRule(ctx context.Context, name, key string) (*registry.RuleOutcome, error) {
	var out registry.RuleOutcome
	return &out, c.Do(ctx, "POST", Path("rules", name, "test"), map[string]string{"key": key}, &out)
}

// SystemInventory reads the machine, with its inventory, of a system.
func (c *Client) SystemInventory(ctx context.Context, name string) (*registry.Machine, error) {
	var m registry.Machine
	return &m, c.Do(ctx, "GET", Path("systems", name, "inventory"), nil, &m)
}

// Inspect boots a system into the inventory agent at its next network
// boot, through its BMC when it has one.
func (c *Client) Inspect(ctx context.Context, name string) (*InspectResult, error) {
	var out InspectResult
	return &out, c.Do(ctx, "POST", Path("systems", name, "inspect"), nil, &out)
}
