package registry

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/provision/provision/inventory"
)

// ObjRule is a discovery rule: which discovered machines it accepts
// (Match), under what name (Hostname), with which profile and address.
const ObjRule = "rule"

// Rule accepts the discovered machines its Match is true for. Rules are
// tried in priority order (lower first; equal, by name); the first that
// matches decides (ApplyRules).
type Rule struct {
	Name     string `json:"name" yaml:"name"`
	Priority int    `json:"priority" yaml:"priority"` // lower runs first; equal: by name
	// Match is an expression over the inventory (inventory.CompileMatch):
	// lldp.switch == "tor-a12" && lldp.port =~ "Ethernet1/([0-9]+)".
	Match string `json:"match" yaml:"match"`
	// Hostname is the name template (inventory.RenderName), e.g.
	// a12-{{ .LLDP.PortNumber }}: the accepted system's name.
	Hostname  string `json:"name_template" yaml:"name_template"`
	Profile   string `json:"profile" yaml:"profile"`
	IP        string `json:"ip,omitempty" yaml:"ip,omitempty"` // "auto" or "" (auto too)
	Subnet    string `json:"subnet,omitempty" yaml:"subnet,omitempty"`
	Reinstall bool   `json:"reinstall,omitempty" yaml:"reinstall,omitempty"`
	EnrolBMC  bool   `json:"enrol_bmc,omitempty" yaml:"enrol_bmc,omitempty"`
}

// Rules lists the rules in the order they are tried.
func (s *Snapshot) Rules() []*Rule {
	out := slices.Collect(maps.Values(s.rules))
	slices.SortFunc(out, func(a, b *Rule) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Rule finds a rule by name.
func (s *Snapshot) Rule(name string) (*Rule, bool) { x, ok := s.rules[name]; return x, ok }

// AddRule stores a new rule.
func (r *Registry) AddRule(ctx context.Context, x Rule) error { return r.putRule(ctx, "", x) }

// EditRule replaces rule name with x (x.Name may differ: a rename).
func (r *Registry) EditRule(ctx context.Context, name string, x Rule) error {
	return r.putRule(ctx, name, x)
}

func (r *Registry) putRule(ctx context.Context, prev string, x Rule) error {
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old := n.rules[prev]
		if prev != "" && old == nil {
			return nil, notFound(ObjRule, prev)
		}
		out, err := n.putRule(prev, x)
		if err != nil {
			return nil, err
		}
		return []Op{op(ObjRule, prev, old, out, out.Name, verb(prev, out.Name))}, nil
	})
	return err
}

// RemoveRule removes a rule.
func (r *Registry) RemoveRule(ctx context.Context, name string) error {
	return r.remove(ctx, ObjRule, name, func(n *Snapshot) (any, error) {
		old, ok := n.rules[name]
		if !ok {
			return nil, notFound(ObjRule, name)
		}
		delete(n.rules, name)
		return old, nil
	})
}

// putRule validates x (the rules of a rule, in one room) and stores it
// in place of prev.
func (s *Snapshot) putRule(prev string, x Rule) (*Rule, error) {
	if err := CheckObjectName(ObjRule, x.Name); err != nil {
		return nil, err
	}
	if _, err := inventory.CompileMatch(x.Match); err != nil {
		return nil, invalidf("rule %s: %v", x.Name, err)
	}
	if err := inventory.CheckName(x.Hostname); err != nil {
		return nil, invalidf("rule %s: %v", x.Name, err)
	}
	if _, ok := s.profiles[x.Profile]; !ok {
		return nil, invalidf("rule %s: profile %q does not exist", x.Name, x.Profile)
	}
	if x.IP != "" && x.IP != IPAuto {
		return nil, invalidf("rule %s: ip %q: a rule gives \"auto\" (the lowest free address outside the pool) or nothing (the same)", x.Name, x.IP)
	}
	if _, ok := s.subnets[x.Subnet]; x.Subnet != "" && !ok {
		return nil, invalidf("rule %s: subnet %q does not exist", x.Name, x.Subnet)
	}
	if err := s.checkNew(ObjRule, prev, x.Name, s.rules[x.Name] != nil); err != nil {
		return nil, err
	}
	delete(s.rules, prev)
	s.rules[x.Name] = &x
	return &x, nil
}

// ruleUsers lists the rules that name a profile or a subnet.
func (s *Snapshot) ruleUsers(kind, name string) []string {
	var out []string
	for _, x := range s.rules {
		if kind == ObjProfile && x.Profile == name || kind == ObjSubnet && x.Subnet == name {
			out = append(out, x.Name)
		}
	}
	slices.Sort(out)
	return out
}
