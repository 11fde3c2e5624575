package main

import (
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// options are the parsed command line. Flags may come before or after the
// command and its argument.
type options struct {
	host, zone, cdb, server string
	qtype                   uint16
	verb                    string
	arg                     string
}

func parseArgs(args []string) (options, error) {
	var o options
	var qtype string
	fs := flag.NewFlagSet("zonecfg", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.host, "host", "", "host name")
	fs.StringVar(&o.zone, "zone", "", "zone")
	fs.StringVar(&o.cdb, "cdb", "", "data.cdb to read")
	fs.StringVar(&o.server, "server", "", "DNS server ADDR[:PORT]")
	fs.StringVar(&qtype, "t", "TXT", "record type for get")
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return o, err
		} else if err != nil {
			return o, usagef("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	t, ok := dns.StringToType[strings.ToUpper(qtype)]
	if !ok {
		return o, usagef("unknown record type %q", qtype)
	}
	o.qtype = t
	switch {
	case len(pos) == 0:
		return o, usagef("no command")
	case pos[0] == "get" && len(pos) == 2:
		o.verb, o.arg = "get", pos[1]
	case pos[0] == "dump" && len(pos) == 1:
		o.verb = "dump"
	default:
		return o, usagef("bad arguments %q", strings.Join(pos, " "))
	}
	return o, nil
}
