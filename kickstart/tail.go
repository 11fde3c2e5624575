package kickstart

import (
	"errors"
	"io"
	"net/http"
)

// readTail reads r's body, at most limit bytes of it, and returns its last
// keep bytes and how many bytes were read. A body over limit is cut there
// (size says limit) rather than refused: the log is still worth keeping.
func readTail(r *http.Request, keep, limit int64) ([]byte, int64, error) {
	ring := make([]byte, keep)
	var size int64
	buf := make([]byte, 32<<10)
	body := io.LimitReader(r.Body, limit)
	for {
		n, err := body.Read(buf)
		for _, c := range buf[:n] {
			ring[size%keep] = c
			size++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return unroll(ring, size, keep), size, err
		}
	}
	return unroll(ring, size, keep), size, nil
}

// unroll puts the ring's bytes back in order.
func unroll(ring []byte, size, keep int64) []byte {
	if size <= keep {
		return append([]byte(nil), ring[:size]...)
	}
	start := size % keep
	return append(append([]byte(nil), ring[start:]...), ring[:start]...)
}
