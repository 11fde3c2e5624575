package main

import (
	"strings"

	"github.com/miekg/dns"
)

// lookupContext is who is asking (host) in which zone.
type lookupContext struct {
	host string // short host name, lowercase
	zone string // FQDN with the final dot, lowercase
}

func resolveContext(o options, env environment, src source) (lookupContext, error) {
	var c lookupContext
	c.host = first(o.host, env.Getenv("ZONECFG_HOST"), cmdlineParam(env.Cmdline(), "provision.host"))
	if c.host == "" {
		h, err := env.Hostname()
		if err != nil {
			return c, usagef("no host name: give --host (%v)", err)
		}
		c.host, _, _ = strings.Cut(h, ".")
	}
	zone := first(o.zone, env.Getenv("ZONECFG_ZONE"), cmdlineParam(env.Cmdline(), "provision.zone"))
	if zone == "" {
		z, err := src.Zone()
		if err != nil {
			return c, err
		}
		zone = z
	}
	if zone == "" {
		_, zone = resolvConf(env.ResolvConf())
	}
	if zone == "" {
		return c, usagef("no zone: give --zone or $ZONECFG_ZONE")
	}
	c.host = strings.ToLower(c.host)
	c.zone = strings.ToLower(dns.Fqdn(zone))
	return c, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// hostName is KEY.HOST._host.ZONE; globalName is KEY.ZONE.
func (c lookupContext) hostName(key string) string { return key + "." + c.host + "._host." + c.zone }

func (c lookupContext) globalName(key string) string { return key + "." + c.zone }

// qualify makes NAME absolute in the zone unless it ends with a dot.
func (c lookupContext) qualify(name string) string {
	if dns.IsFqdn(name) {
		return strings.ToLower(name)
	}
	return strings.ToLower(name) + "." + c.zone
}
