package appliance

import (
	"context"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// consoleFollowPoll is how often a follower waiting for a session looks
// for one, beside the started broadcast.
const consoleFollowPoll = time.Second

// Follow returns the live console bytes of system (a system's name or a
// discovered machine's console name) across its sessions: while
// none runs the channel stays open, and it carries the next session's
// bytes. It is closed when ctx ends or the appliance stops.
func (c *consoles) Follow(ctx context.Context, system string) (<-chan []byte, error) {
	if mac, ok := api.ConsoleMachine(system); ok { // a discovered machine's (console_machines.go)
		if _, err := c.reg.Machine(ctx, mac); err != nil {
			return nil, err
		}
	} else if _, ok := c.reg.Snapshot().SystemByName(system); !ok {
		return nil, &registry.Error{Kind: registry.ErrNotFound, Msg: "system " + system + " not found"}
	}
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		return nil, errConsoleStopping
	}
	out := make(chan []byte, 16)
	go c.follow(ctx, system, out)
	return out, nil
}

// follow subscribes to each session of system in turn, forwarding its
// bytes to out.
func (c *consoles) follow(ctx context.Context, system string, out chan<- []byte) {
	defer close(out)
	poll := time.NewTicker(consoleFollowPoll)
	defer poll.Stop()
	for {
		next := c.nextSession(system) // taken first: a session started after Follow failed is not missed
		if ch, err := c.mgr.Follow(ctx, system); err == nil {
			if !c.forward(ctx, ch, out) {
				return
			}
			continue // that session ended: wait for the next
		}
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-next:
		case <-poll.C:
		}
	}
}

// forward copies one session's bytes to out until it ends (true) or ctx
// ends or the appliance stops (false).
func (c *consoles) forward(ctx context.Context, ch <-chan []byte, out chan<- []byte) bool {
	for {
		select {
		case p, ok := <-ch:
			if !ok {
				return ctx.Err() == nil
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return false
			case <-c.done:
				return false
			}
		case <-ctx.Done():
			return false
		case <-c.done:
			return false
		}
	}
}

// nextSession is closed when a session of system starts.
func (c *consoles) nextSession(system string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.started[system]
	if !ok {
		ch = make(chan struct{})
		c.started[system] = ch
	}
	return ch
}
