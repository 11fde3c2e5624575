package tinydns

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Format writes recs as data lines that Parse turns back into the same
// records in the same order, so Compile of the output writes the same
// data.cdb bytes as WriteCDB of recs.
//
// Each record gets its own line: + for A (= when an A record is directly
// followed by the PTR record a = line would make), ^ PTR, C CNAME, & NS,
// @ MX, Z SOA, % client locations, and : for every other type. TXT uses a
// ' line when its rdata is exactly what a ' line makes (127-byte strings,
// a shorter last one), and a : line otherwise, e.g. for the 255-byte
// strings of other servers, so the rdata never changes. Keys must be
// lowercase, as Parse and NewRecord make them. A record no data line can
// express (type 252, a malformed or over-long name in NS CNAME PTR MX or
// SOA rdata, a location with bytes outside '!'..'~' or ':') is an error.
func Format(w io.Writer, recs []Record) error {
	bw := bufio.NewWriter(w)
	for i := 0; i < len(recs); {
		line, used, err := formatNext(recs[i:])
		if err != nil {
			return fmt.Errorf("tinydns: format record %d: %w", i, err)
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
		i += used
	}
	return bw.Flush()
}

// formatNext formats recs[0], or recs[0:2] as one = line.
func formatNext(recs []Record) (string, int, error) {
	if len(recs) > 1 && isEqualsPair(recs[0], recs[1]) {
		line, err := formatEquals(recs[0], recs[1])
		return line, 2, err
	}
	line, err := FormatRecord(recs[0])
	return line, 1, err
}

// FormatRecord returns the data line, without '\n', for one record.
func FormatRecord(r Record) (string, error) {
	if r.IsLocation() {
		return formatLocation(r)
	}
	owner, err := formatOwner(r)
	if err != nil {
		return "", err
	}
	t, err := tail(r)
	if err != nil {
		return "", err
	}
	body, err := formatBody(r, owner)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(body+":"+t, ":"), nil
}

// formatBody returns the line up to the ttl field, without its ':'.
func formatBody(r Record, owner string) (string, error) {
	switch {
	case r.Type == TypeA && len(r.RData) == 4:
		return "+" + owner + ":" + formatIP(r.RData), nil
	case r.Type == TypeNS:
		x, err := serverField(r.RData)
		return "&" + owner + "::" + x, err
	case r.Type == TypeMX:
		return formatMX(r, owner)
	case r.Type == TypeCNAME:
		target, err := formatName(r.RData)
		return "C" + owner + ":" + target, err
	case r.Type == TypePTR:
		target, err := formatName(r.RData)
		return "^" + owner + ":" + target, err
	case r.Type == TypeSOA:
		return formatSOA(r, owner)
	case r.Type == TypeTXT && bytes.Equal(TXTRData(joinTXT(r.RData)), r.RData):
		return "'" + owner + ":" + escape(joinTXT(r.RData), isTextByte), nil
	case r.Type == TypeAXFR:
		return "", fmt.Errorf("type %d cannot be written in a data file", r.Type)
	}
	return fmt.Sprintf(":%s:%d:%s", owner, r.Type, escape(r.RData, isTextByte)), nil
}

// tail returns the ttl, timestamp and location fields.
func tail(r Record) (string, error) {
	ts := ""
	if r.Timestamp != [8]byte{} {
		ts = FormatTimestamp(r.Timestamp)
	}
	lo, err := formatLocationCode(r.Location)
	return fmt.Sprintf("%d:%s:%s", r.TTL, ts, lo), err
}

func formatOwner(r Record) (string, error) {
	if !bytes.Equal(lowerASCII(r.Key), r.Key) {
		return "", fmt.Errorf("key %q is not lowercase", r.Key)
	}
	if !r.Wildcard && bytes.HasPrefix(r.Key, []byte("\001*")) {
		return "", fmt.Errorf("key %q starts with a * label but is not a wildcard", r.Key)
	}
	return formatName(r.Owner())
}

// formatLocationCode writes a location field: the raw bytes, a trailing
// zero byte dropped. tinydns-data reads them without escapes.
func formatLocationCode(loc [2]byte) (string, error) {
	code := bytes.TrimRight(loc[:], "\000")
	for _, c := range code {
		if c < '!' || c > '~' || c == ':' {
			return "", fmt.Errorf("location %q cannot be written in a data file", loc[:])
		}
	}
	return string(code), nil
}

// FormatTimestamp writes a TAI64 label as the 16 hex digits of a
// timestamp field.
func FormatTimestamp(ts [8]byte) string { return hex.EncodeToString(ts[:]) }
