package console

import (
	"bytes"
	"time"
)

// banner is the line ipmitool prints once the session is open.
var banner = []byte("[SOL Session operational.")

// pump reads the machine's bytes from p until ipmitool exits, records
// them, and returns how long the session was open.
func (s *session) pump(p *solProc) time.Duration {
	var opened time.Time
	var head []byte // ipmitool's first line, until it is whole
	buf := make([]byte, 4096)
	for {
		n, err := p.Read(buf)
		chunk := buf[:n]
		if opened.IsZero() && n > 0 {
			var ok bool
			head = append(head, chunk...)
			if chunk, ok = afterBanner(head); ok {
				opened = time.Now()
				s.setState(StateOpen, nil)
			}
		}
		if len(chunk) > 0 {
			s.record(chunk)
		}
		if err != nil {
			break
		}
	}
	if opened.IsZero() {
		return 0
	}
	return time.Since(opened)
}

// afterBanner returns what follows ipmitool's banner line in head, once
// the line is whole (everything, if the first line is not the banner).
func afterBanner(head []byte) ([]byte, bool) {
	i := bytes.IndexByte(head, '\n')
	switch {
	case i < 0 && len(head) < 512:
		return nil, false
	case i >= 0 && bytes.HasPrefix(head, banner):
		return head[i+1:], true
	}
	return head, true
}

// record writes p to the Ring and hands it to the followers.
func (s *session) record(p []byte) {
	_, err := s.ring.Write(p)
	data := bytes.Clone(p) // the followers' copy, shared, never written
	s.mu.Lock()
	s.status.Bytes += int64(len(p))
	for f := range s.followers {
		s.status.Dropped += f.offer(data)
	}
	first := err != nil && !s.ringErr
	s.ringErr = s.ringErr || err != nil
	s.mu.Unlock()
	if first {
		s.m.cfg.Log.Error("console: recording failed", "system", s.system, "err", err)
	}
}

// setState moves s to state. An error is logged once: the same error
// again (a BMC still refusing the password, still unreachable) is not
// logged again until the session has been open in between.
func (s *session) setState(state State, err error) {
	s.mu.Lock()
	if s.status.State != state {
		s.status.State, s.status.Since = state, time.Now()
	}
	msg, repeat := "", false
	if err != nil {
		msg = err.Error()
		repeat = msg == s.reported
		s.status.LastError, s.reported = msg, msg
	}
	if state == StateOpen {
		s.reported = ""
	}
	bmc := s.bmc
	s.mu.Unlock()
	log := s.m.cfg.Log.With("system", s.system, "bmc", bmc)
	switch {
	case state == StateOpen:
		log.Info("console: SOL session open")
	case err != nil && !repeat:
		log.Warn("console: SOL session "+string(state), "err", msg)
	}
}
