package tftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// TFTP opcodes (RFC 1350, section 5; OACK: RFC 2347).
const (
	opRRQ   = 1 // read request
	opWRQ   = 2 // write request
	opDATA  = 3
	opACK   = 4
	opError = 5
	opOACK  = 6 // option acknowledgement
)

// Transfer modes (RFC 1350, section 1). Mode names are case-insensitive;
// "mail" is for writes only and obsolete.
const (
	modeOctet    = "octet"
	modeNetASCII = "netascii"
	modeMail     = "mail"
)

// Options this server acknowledges (RFC 2348, 2349). Option names are
// case-insensitive (RFC 2347); any other option is ignored, as the RFC
// asks, so it is left out of the OACK.
const (
	optBlksize = "blksize" // RFC 2348: 8 to 65464 octets
	optTsize   = "tsize"   // RFC 2349: the file's size
	optTimeout = "timeout" // RFC 2349: 1 to 255 seconds
)

// Limits of the options (RFC 2348, RFC 2349).
const (
	minBlksize     = 8
	maxBlksize     = 65464
	defaultBlksize = 512 // RFC 1350
	minTimeout     = 1
	maxTimeout     = 255
)

// request is a read or write request:
//
//	| opcode | filename | 0 | mode | 0 | opt1 | 0 | value1 | 0 | ... |
//
// (2 bytes, then NUL-terminated strings; RFC 1350 section 5, RFC 2347).
type request struct {
	op   uint16
	name string            // as sent
	mode string            // lower-cased
	opts map[string]string // by lower-cased name; the first of a repeated name counts
}

// errMalformed: a request that is not NUL-terminated strings.
var errMalformed = errors.New("malformed request")

// parseRequest reads an RRQ or WRQ. The mode is checked by the caller.
func parseRequest(p []byte) (request, error) {
	if len(p) < 2 {
		return request{}, errMalformed
	}
	r := request{op: binary.BigEndian.Uint16(p)}
	fields := bytes.Split(p[2:], []byte{0})
	// A well-formed request ends in NUL, so the last field is empty.
	if len(fields) < 3 || len(fields[len(fields)-1]) != 0 {
		return request{}, fmt.Errorf("%w: no NUL-terminated name and mode", errMalformed)
	}
	fields = fields[:len(fields)-1]
	r.name, r.mode = string(fields[0]), strings.ToLower(string(fields[1]))
	for i := 2; i+1 < len(fields); i += 2 {
		name := strings.ToLower(string(fields[i]))
		if _, dup := r.opts[name]; name == "" || dup {
			continue
		}
		if r.opts == nil {
			r.opts = make(map[string]string)
		}
		r.opts[name] = string(fields[i+1])
	}
	return r, nil
}

// checkMode refuses a read in any mode but octet and netascii, as
// tftpd-hpa does (TFTP error 4).
func checkMode(mode string) error {
	switch mode {
	case modeOctet, modeNetASCII:
		return nil
	case modeMail:
		return fmt.Errorf("mode %q is for writes only: %w", mode, errIllegal)
	}
	return fmt.Errorf("unknown mode %q: %w", mode, errIllegal)
}

// negotiated is what a transfer uses after the options: the values it
// sends back in its OACK, and the block size and timeout it goes by.
type negotiated struct {
	oack    []string // name, value, name, value... in a fixed order
	blksize int
	timeout int // seconds; 0: the server's
}

// negotiate answers a read request's options. maxBlock is the largest
// block that fits the interface's MTU (0 if unknown), size the file's
// length (-1 if unknown, as for a netascii transfer).
func negotiate(opts map[string]string, maxBlock int, size int64) negotiated {
	n := negotiated{blksize: defaultBlksize}
	if v, ok := number(opts[optBlksize], minBlksize, 1<<31-1); ok {
		n.blksize = min(v, maxBlksize)
		if maxBlock >= defaultBlksize {
			n.blksize = min(n.blksize, maxBlock)
		}
		n.oack = append(n.oack, optBlksize, strconv.Itoa(n.blksize))
	}
	if _, ok := opts[optTsize]; ok && size >= 0 {
		n.oack = append(n.oack, optTsize, strconv.FormatInt(size, 10))
	}
	if v, ok := number(opts[optTimeout], minTimeout, maxTimeout); ok {
		n.timeout = v
		n.oack = append(n.oack, optTimeout, strconv.Itoa(v))
	}
	return n
}

// number parses a decimal option value within [lo, hi].
func number(s string, lo, hi int) (int, bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, false
	}
	return v, true
}

// oackPacket is  | 06 | opt1 | 0 | value1 | 0 | ... |  (RFC 2347).
func oackPacket(pairs []string) []byte {
	p := binary.BigEndian.AppendUint16(nil, opOACK)
	for _, s := range pairs {
		p = append(append(p, s...), 0)
	}
	return p
}
