package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/provision/provision/inventory"
)

// RuleOutcome is what the rules did (or, tested, would do) with a
// discovered machine.
type RuleOutcome struct {
	Rule      string `json:"rule,omitempty"` // the rule that matched ("" none)
	Name      string `json:"name,omitempty"` // the system name it made
	IP        string `json:"ip,omitempty"`
	Profile   string `json:"profile,omitempty"`
	System    string `json:"system,omitempty"` // the system added (not for a test)
	Reason    string `json:"reason,omitempty"` // why nothing was added: no rule matched, a conflict (naming the other object), an error in a template
	Reinstall bool   `json:"reinstall,omitempty"`
	EnrolBMC  bool   `json:"enrol_bmc,omitempty"` // the rule asks for the machine's BMC to be enrolled
}

// ApplyRules tries the rules, in priority order, on the discovered
// machine mac: the first whose match is true accepts it (its profile,
// its name template rendered, IP auto). A rule whose evaluation fails
// is skipped, and named in the reason if no other matches. A conflict
// (name, IP, MAC, hostname, BMC address) leaves the machine discovered,
// with the reason stored on it: that is an outcome, not an error.
func (r *Registry) ApplyRules(ctx context.Context, mac string) (RuleOutcome, error) {
	row, err := r.machineRow(ctx, mac)
	if err != nil {
		return RuleOutcome{}, err
	}
	if m := machineOut(r.Snapshot(), *row); m.System != "" {
		return RuleOutcome{System: m.System, Reason: "machine " + m.MAC + " is already system " + m.System}, nil
	}
	out, err := r.runRules(ctx, row, r.Snapshot().Rules(), false)
	if err != nil {
		return out, err
	}
	switch {
	case out.System != "":
		r.event(out.System, row.MAC, row.IP, EventRuleMatched, fmt.Sprintf("rule %s: system %s, ip %s, profile %s", out.Rule, out.System, out.IP, out.Profile))
	case out.Rule != "":
		r.event(row.MAC, row.MAC, row.IP, EventRuleConflict, out.Reason)
	}
	if reason := ruleReason(row.Reason, out); out.System == "" && reason != row.Reason {
		if err := r.setReason(ctx, row.MAC, out.Rule, reason); err != nil {
			return out, err
		}
	}
	return out, nil
}

// noRule is the outcome's reason when no rule matched.
const noRule = "no rule matched"

// ruleReason is the reason a machine keeps after the rules ran (and
// added nothing): the rules' own, or nothing when no rule matched; then
// a reason of something else (a failed enrolment) stays.
func ruleReason(old string, out RuleOutcome) string {
	if out.Reason != noRule {
		return out.Reason
	}
	if strings.HasPrefix(old, "rule ") || strings.HasPrefix(old, noRule) {
		return ""
	}
	return old
}

// TestRule says what rule would do with the machine key now, writing
// nothing (whether it matches, the name, the address, a conflict).
func (r *Registry) TestRule(ctx context.Context, rule, key string) (RuleOutcome, error) {
	x, ok := r.Snapshot().Rule(rule)
	if !ok {
		return RuleOutcome{}, notFound(ObjRule, rule)
	}
	row, err := r.machineRow(ctx, key)
	if err != nil {
		return RuleOutcome{}, err
	}
	if m := machineOut(r.Snapshot(), *row); m.System != "" {
		return RuleOutcome{System: m.System, Reason: "machine " + m.MAC + " is already system " + m.System}, nil
	}
	return r.runRules(ctx, row, []*Rule{x}, true)
}

// runRules is ApplyRules (test: TestRule) over rules, in their order.
func (r *Registry) runRules(ctx context.Context, row *machineRow, rules []*Rule, test bool) (RuleOutcome, error) {
	var failed []string
	for _, x := range rules {
		ok, err := matches(x, row.Inventory)
		if err != nil {
			failed = append(failed, fmt.Sprintf("rule %s: %v", x.Name, err))
			continue
		}
		if !ok {
			continue
		}
		out := RuleOutcome{Rule: x.Name, Profile: x.Profile, Reinstall: x.Reinstall, EnrolBMC: x.EnrolBMC}
		name, err := inventory.RenderName(x.Hostname, row.Inventory)
		if err != nil {
			out.Reason = fmt.Sprintf("rule %s: %v", x.Name, err)
			return out, nil
		}
		out.Name = name
		sys, err := r.accept(ctx, row, Accept{Name: name, Profile: x.Profile, IP: x.IP, Subnet: x.Subnet, Reinstall: x.Reinstall}, x.Name, test)
		switch {
		case err == nil:
			out.IP = sys.IP
			if !test {
				out.System = sys.Name
			}
		case isConflict(err):
			out.Reason = fmt.Sprintf("rule %s: %v", x.Name, err)
		default:
			return out, err
		}
		return out, nil
	}
	if len(failed) > 0 {
		return RuleOutcome{Reason: noRule + "; " + strings.Join(failed, "; ")}, nil
	}
	return RuleOutcome{Reason: noRule}, nil
}

func matches(x *Rule, inv inventory.Inventory) (bool, error) {
	m, err := inventory.CompileMatch(x.Match)
	if err != nil {
		return false, err
	}
	return m.Eval(inv)
}

// MatchRule is the first rule, in priority order, whose match is true
// for inv (one whose evaluation fails is skipped): what ApplyRules would
// try first. The appliance asks it whether a rule wants the machine's
// BMC enrolled (Rule.EnrolBMC) before the machine is accepted.
func (s *Snapshot) MatchRule(inv inventory.Inventory) (*Rule, bool) {
	for _, x := range s.Rules() {
		if ok, err := matches(x, inv); err == nil && ok {
			return x, true
		}
	}
	return nil, false
}
