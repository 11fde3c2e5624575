package main

import (
	"os"
	"strings"
)

// environment is what zonecfg reads from the machine, so tests can give
// their own.
type environment interface {
	Getenv(name string) string
	Cmdline() string
	Hostname() (string, error)
	ResolvConf() string
	Exists(path string) bool
}

type osEnv struct{}

func (osEnv) Getenv(name string) string { return os.Getenv(name) }

func (osEnv) Cmdline() string {
	b, _ := os.ReadFile("/proc/cmdline")
	return string(b)
}

func (osEnv) Hostname() (string, error) { return os.Hostname() }

func (osEnv) ResolvConf() string {
	b, _ := os.ReadFile("/etc/resolv.conf")
	return string(b)
}

func (osEnv) Exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// cmdlineParam returns the value of key= on a kernel command line.
func cmdlineParam(cmdline, key string) string {
	for _, f := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// resolvConf returns the first nameserver and the domain (or first search
// domain) of a resolv.conf.
func resolvConf(text string) (server, domain string) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if server == "" {
				server = f[1]
			}
		case "domain", "search":
			if domain == "" {
				domain = f[1]
			}
		}
	}
	return server, domain
}
