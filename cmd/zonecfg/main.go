// Command zonecfg prints the settings a machine reads at boot. Settings
// live in the appliance's DNS zone as TXT records: a global setting KEY at
// KEY.ZONE, a host's own at KEY.HOST._host.ZONE. zonecfg reads them from a
// copy of the zone (data.cdb, the tinydns format) early in boot, when the
// network is not up, and from DNS afterwards.
//
//	zonecfg [flags] get KEY          the value (TXT strings joined); the host's own first, then the global one
//	zonecfg [flags] get -t A NAME    the addresses of NAME (relative to the zone unless it ends in '.')
//	zonecfg [flags] dump             every setting this host sees, and where it comes from
//
// Exit status: 0 found; 1 not found ("zonecfg: KEY: not found (looked in
// data.cdb ./data.cdb, zone dsas, host web001)", naming where it looked);
// 2 usage error; 3 neither a data.cdb nor DNS could be read. -h and --help
// print the usage and exit 0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes.
const (
	exitNotFound = 1
	exitUsage    = 2
	exitNoSource = 3
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Sprintf(format, a...)}
}

func main() {
	err := run(os.Args[1:], os.Stdout, osEnv{})
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "zonecfg: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code == exitUsage {
			fmt.Fprint(os.Stderr, usage)
		}
		os.Exit(ee.code)
	}
	os.Exit(exitNoSource)
}

const usage = `usage: zonecfg [--host H] [--zone Z] [--cdb FILE | --server ADDR] get [-t TYPE] KEY
       zonecfg [--host H] [--zone Z] [--cdb FILE | --server ADDR] dump
host: --host, $ZONECFG_HOST, provision.host= on the kernel command line, the hostname
zone: --zone, $ZONECFG_ZONE, provision.zone=, the SOA of the data.cdb, resolv.conf's domain
source: --cdb, $ZONECFG_CDB, ./data.cdb if it exists, else DNS (--server or resolv.conf)
`

func run(args []string, out io.Writer, env environment) error {
	o, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		_, err = io.WriteString(out, usage) // -h, --help: the usage, exit 0
		return err
	}
	if err != nil {
		return err
	}
	src, err := openSource(o, env)
	if err != nil {
		return err
	}
	defer src.Close()
	ctx, err := resolveContext(o, env, src)
	if err != nil {
		return err
	}
	switch o.verb {
	case "get":
		return get(out, src, ctx, o)
	case "dump":
		return dump(out, src, ctx)
	}
	return usagef("unknown command %q", o.verb)
}
