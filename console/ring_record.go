package console

import (
	"encoding/binary"
	"hash/crc32"
	"time"
)

// headerLen is a record's fixed part: length, time, CRC.
const headerLen = 4 + 8 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends one line's record (see the format at the top of
// ring.go) to buf.
func appendRecord(buf []byte, l Line) []byte {
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(l.Text)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(l.At.UnixNano()))
	buf = append(buf, 0, 0, 0, 0)
	buf = append(buf, l.Text...)
	binary.BigEndian.PutUint32(buf[start+12:], recordCRC(buf[start:]))
	return buf
}

// recordLen is the length of a line's record.
func recordLen(l *Line) int { return headerLen + len(l.Text) }

// recordCRC is the checksum of a whole record, its CRC field excluded.
func recordCRC(rec []byte) uint32 {
	c := crc32.Update(0, castagnoli, rec[:12])
	return crc32.Update(c, castagnoli, rec[headerLen:])
}

// decodeRecords returns the lines of the valid records at the start of b
// and the length of that valid part: decoding stops at the first record
// that is cut short or fails its CRC (a torn write), which is skipped.
// The lines' Text points into b.
func decodeRecords(b []byte) (lines []Line, valid int) {
	for {
		l, n := decodeRecord(b[valid:])
		if n == 0 {
			return lines, valid
		}
		lines = append(lines, l)
		valid += n
	}
}

// decodeRecord decodes the record at the start of b, returning its
// length, or 0 if there is no whole valid record there.
func decodeRecord(b []byte) (Line, int) {
	if len(b) < headerLen {
		return Line{}, 0
	}
	n := binary.BigEndian.Uint32(b)
	if n > MaxLine || int(n) > len(b)-headerLen {
		return Line{}, 0
	}
	rec := b[:headerLen+int(n)]
	if binary.BigEndian.Uint32(rec[12:]) != recordCRC(rec) {
		return Line{}, 0
	}
	at := time.Unix(0, int64(binary.BigEndian.Uint64(rec[4:])))
	return Line{At: at, Text: rec[headerLen:]}, len(rec)
}
