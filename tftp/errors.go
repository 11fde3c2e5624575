package tftp

import (
	"encoding/binary"
	"errors"
	"io/fs"
)

// TFTP error codes (RFC 1350, section 5; 8: RFC 2347).
const (
	errUndefined       = 0 // Not defined, see error message.
	errNotFound        = 1 // File not found.
	errAccessViolation = 2 // Access violation.
	errIllegalOp       = 4 // Illegal TFTP operation.
	errOptions         = 8 // The client refused the options (OACK).
)

// errIllegal: a request this server does not do (an unknown mode, a
// malformed packet): TFTP error 4.
var errIllegal = errors.New("illegal TFTP operation")

// wireError is the ERROR packet's code and text for err: a short message,
// never a server path.
func wireError(err error) (uint16, string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNotFound, "file not found"
	case errors.Is(err, fs.ErrPermission):
		return errAccessViolation, "access violation"
	case errors.Is(err, errIllegal):
		return errIllegalOp, "illegal TFTP operation"
	case errors.Is(err, ErrBusy):
		return errUndefined, "server busy, try again"
	case errors.Is(err, errTimeout):
		return errUndefined, "timed out"
	default:
		return errUndefined, "transfer failed"
	}
}

// errorPacket is  | 05 | ErrorCode | ErrMsg | 0 |  (2, 2, n and 1 bytes).
func errorPacket(err error) []byte {
	code, msg := wireError(err)
	p := binary.BigEndian.AppendUint16(nil, opError)
	p = binary.BigEndian.AppendUint16(p, code)
	p = append(p, msg...)
	return append(p, 0)
}
