package registry

import (
	"context"
	"fmt"
	"slices"
)

// opStream is a commit written while the change that makes it is still
// being checked: a large import hands it the ops of each chunk of systems
// it has checked (send), a goroutine writes them in the commit's
// transaction meanwhile, and the Registry's commit writes the rest and
// commits (commit). Until then nothing is visible to anyone: a change
// that fails after all (a later system's check, a render, the
// principal's scopes) is rolled back and leaves the database as it was.
// The Registry's writers' lock is held from begin to the end.
type opStream struct {
	c        *sqlCommit
	at       string // the commit's time and actor, stamped on every op
	who      Actor
	in       chan []Op
	done     chan struct{}
	err      error  // the writer's first failure; read once done is closed
	sent     [][]Op // as handed to the writer
	nsent    int    // ops in sent
	finished bool
}

// streamQueue is how many sends may wait for the writer.
const streamQueue = 256

// beginStream starts an opStream for a change validated at base, stamped
// at and who; errStale as Commit.
func (st *SQLStore) beginStream(ctx context.Context, base uint64, at string, who Actor) (*opStream, error) {
	c, err := st.begin(ctx, base)
	if err != nil {
		return nil, err
	}
	s := &opStream{c: c, at: at, who: who, in: make(chan []Op, streamQueue), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for ops := range s.in {
			if s.err == nil {
				s.err = c.write(ctx, ops)
			}
			if s.err == nil {
				s.err = c.flush(ctx)
			}
		}
	}()
	return s, nil
}

// send has ops written, as the change will commit them: an op that
// prepare would drop (noChange) is not. The caller does not change them
// afterwards.
func (s *opStream) send(ops []Op) {
	ops = slices.DeleteFunc(slices.Clone(ops), noChange)
	for i := range ops {
		ops[i].Audit.At, ops[i].Audit.By, ops[i].Audit.From = s.at, s.who.Name, s.who.Addr
	}
	if len(ops) == 0 {
		return
	}
	s.sent = append(s.sent, ops)
	s.nsent += len(ops)
	s.in <- ops
}

// commit writes ops, the change's, of which those sent are written
// already, and commits.
func (s *opStream) commit(ctx context.Context, ops []Op) (uint64, error) {
	s.wait()
	if s.err != nil {
		return 0, s.err
	}
	if len(ops) < s.nsent {
		return 0, fmt.Errorf("registry: %d changes written ahead, the change has %d", s.nsent, len(ops))
	}
	i := 0
	for _, sent := range s.sent {
		for _, o := range sent {
			if o.Kind != ops[i].Kind || o.Name != ops[i].Name || o.Prev != ops[i].Prev {
				return 0, fmt.Errorf("registry: change %d written ahead as %s %s, the change has %s %s", i, o.Kind, o.Name, ops[i].Kind, ops[i].Name)
			}
			i++
		}
	}
	if err := s.c.write(ctx, ops[s.nsent:]); err != nil {
		return 0, err
	}
	return s.c.finish(ctx, ops)
}

// rollback ends the stream; after commit, it changes nothing. It may be
// called on a nil stream.
func (s *opStream) rollback() {
	if s == nil {
		return
	}
	s.wait()
	s.c.rollback()
}

func (s *opStream) wait() {
	if !s.finished {
		s.finished = true
		close(s.in)
	}
	<-s.done
}
