package tftp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
)

// TFTP error codes (RFC 1350, section 5).
const (
	errNotFound        = 1 // File not found.
	errAccessViolation = 2 // Access violation.
)

const opError = 5 // ERROR packet opcode (RFC 1350, section 5)

// wireError is the error handed back to pin/tftp, which sends its text to
// the client: a short message, never a server path.
func wireError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("file not found")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("access violation")
	case errors.Is(err, ErrBusy):
		return errors.New("server busy, try again")
	default:
		return errors.New("transfer failed")
	}
}

// sendError sends an ERROR packet from a new port, as a transfer's first
// reply comes from its own TID (RFC 1350, section 4).
//
// pin/tftp v3.1.0 sends every handler error as code 1 (File not found), see
// sender.abort and receiver.abort. For a refused request this is sent just
// before it: the client stops at the first ERROR it gets, so it reports
// "access violation", and pin/tftp's later packet finds its port closed.
func sendError(local net.IP, to net.UDPAddr, code uint16, msg string) error {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: local})
	if err != nil {
		return fmt.Errorf("tftp error packet: %w", err)
	}
	defer conn.Close()
	if _, err := conn.WriteToUDP(errorPacket(code, msg), &to); err != nil {
		return fmt.Errorf("tftp error packet: %w", err)
	}
	return nil
}

// errorPacket is  | 05 | ErrorCode | ErrMsg | 0 |  (2, 2, n and 1 bytes).
func errorPacket(code uint16, msg string) []byte {
	p := binary.BigEndian.AppendUint16(nil, opError)
	p = binary.BigEndian.AppendUint16(p, code)
	p = append(p, msg...)
	return append(p, 0)
}
