package tinydns

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// formatLocation writes %lo:prefix.
func formatLocation(r Record) (string, error) {
	if len(r.Key) < 2 || r.Key[0] != 0 || r.Key[1] != '%' {
		return "", fmt.Errorf("location key %q does not start with \\000%%", r.Key)
	}
	lo, err := formatLocationCode(r.Location)
	if err != nil {
		return "", err
	}
	parts := make([]string, 0, len(r.Key)-2)
	for _, b := range r.Key[2:] {
		parts = append(parts, strconv.Itoa(int(b)))
	}
	return strings.TrimRight("%"+lo+":"+strings.Join(parts, "."), ":"), nil
}

func formatIP(ip []byte) string {
	return fmt.Sprintf("%d.%d.%d.%d", ip[0], ip[1], ip[2], ip[3])
}

// serverField writes the x field of & and @ lines. A name without a dot
// gets a final one, so the x-rule does not append .ns.fqdn or .mx.fqdn.
func serverField(wire []byte) (string, error) {
	name, err := formatName(wire)
	if err != nil {
		return "", err
	}
	if !strings.Contains(name, ".") {
		name += "."
	}
	return name, nil
}

// formatMX writes @fqdn::x:dist.
func formatMX(r Record, owner string) (string, error) {
	if len(r.RData) < 3 {
		return "", fmt.Errorf("%w: MX rdata of %d bytes", ErrData, len(r.RData))
	}
	x, err := serverField(r.RData[2:])
	dist := binary.BigEndian.Uint16(r.RData)
	return fmt.Sprintf("@%s::%s:%d", owner, x, dist), err
}

// formatSOA writes Zfqdn:mname:rname:ser:ref:ret:exp:min.
func formatSOA(r Record, owner string) (string, error) {
	n, err := nameLen(r.RData)
	if err != nil {
		return "", err
	}
	m, err := nameLen(r.RData[n:])
	if err != nil {
		return "", err
	}
	timers := r.RData[n+m:]
	if len(timers) != 20 {
		return "", fmt.Errorf("%w: SOA has %d bytes of timers, want 20", ErrData, len(timers))
	}
	mname, _ := formatName(r.RData[:n])
	rname, _ := formatName(r.RData[n : n+m])
	line := "Z" + owner + ":" + mname + ":" + rname
	for i := 0; i < 20; i += 4 {
		line += ":" + strconv.FormatUint(uint64(binary.BigEndian.Uint32(timers[i:])), 10)
	}
	return line, nil
}

// isEqualsPair reports whether a and ptr are the A and PTR records of one
// = line.
func isEqualsPair(a, ptr Record) bool {
	if a.Type != TypeA || len(a.RData) != 4 || ptr.Type != TypePTR || ptr.Wildcard {
		return false
	}
	if a.TTL != ptr.TTL || a.Timestamp != ptr.Timestamp || a.Location != ptr.Location {
		return false
	}
	return bytes.Equal(ptr.Key, reverseName([4]byte(a.RData))) && bytes.Equal(lowerASCII(ptr.RData), a.Owner())
}

// formatEquals writes =fqdn:ip with the owner in the PTR target's case.
func formatEquals(a, ptr Record) (string, error) {
	owner, err := formatName(ptr.RData)
	if err != nil {
		return "", err
	}
	t, err := tail(a)
	return strings.TrimRight("="+owner+":"+formatIP(a.RData)+":"+t, ":"), err
}

// joinTXT returns the text of TXT rdata, or nil if it is malformed.
func joinTXT(rdata []byte) []byte {
	strs, err := TXTStrings(rdata)
	if err != nil {
		return nil
	}
	return bytes.Join(strs, nil)
}

// escape writes b with every byte for which keep is false as \ooo.
func escape(b []byte, keep func(byte) bool) string {
	var sb strings.Builder
	for _, c := range b {
		if keep(c) {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\%03o", c)
		}
	}
	return sb.String()
}

// isTextByte tells the bytes of ' text and : rdata written as they are.
func isTextByte(c byte) bool {
	return c >= ' ' && c <= '~' && c != ':' && c != '\\'
}
