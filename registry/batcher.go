package registry

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// batcher takes items from hot paths without ever blocking them: Record
// puts an item in a buffered channel (dropping it, counted, when the
// buffer is full), and Run writes what is queued in batches, one
// transaction per batch.
type batcher[T any] struct {
	write   func(ctx context.Context, batch []T) error
	ch      chan T
	dropped atomic.Int64
	onError atomic.Pointer[func(err error, lost int)]

	// For sync: queued counts items taken into ch, handled those written
	// (or lost to a failed write); kick cuts a lingering batch short; a
	// batch closes handledCh when it is done.
	queued    atomic.Int64
	running   atomic.Bool
	kick      chan struct{}
	mu        sync.Mutex
	handled   int64
	handledCh chan struct{}
}

// setOnError makes run call f with the error and the number of items of
// every batch that could not be written.
func (b *batcher[T]) setOnError(f func(err error, lost int)) { b.onError.Store(&f) }

func newBatcher[T any](size int, write func(context.Context, []T) error) *batcher[T] {
	return &batcher[T]{write: write, ch: make(chan T, size), kick: make(chan struct{}, 1), handledCh: make(chan struct{})}
}

func (b *batcher[T]) record(v T) {
	select {
	case b.ch <- v:
		b.queued.Add(1)
	default:
		b.dropped.Add(1)
	}
}

// linger is how long a batch waits for more items after its first, so
// that a flood (wrk on an image file, a boot storm) is written in batches
// of thousands, one transaction each.
const linger = 50 * time.Millisecond

// run writes queued items until ctx ends, then writes what is left.
func (b *batcher[T]) run(ctx context.Context) error {
	b.running.Store(true)
	defer b.running.Store(false)
	wctx := context.WithoutCancel(ctx)
	for {
		select {
		case v := <-b.ch:
			b.flush(wctx, v, ctx.Done())
		case <-ctx.Done():
			for {
				select {
				case v := <-b.ch:
					b.flush(wctx, v, nil)
				default:
					return nil
				}
			}
		}
	}
}

// flush writes v and what else is queued, up to the queue's size: one
// transaction, whatever its size, costs about one fsync. With a done
// channel it waits up to linger for more, or until done is closed; with
// none it takes only what is queued already.
func (b *batcher[T]) flush(ctx context.Context, v T, done <-chan struct{}) {
	batch := []T{v}
	var wait <-chan time.Time
	if done != nil {
		t := time.NewTimer(linger)
		defer t.Stop()
		wait = t.C
	}
collect:
	for len(batch) < cap(b.ch) {
		if wait == nil {
			select {
			case v := <-b.ch:
				batch = append(batch, v)
				continue
			default:
				break collect
			}
		}
		select {
		case v := <-b.ch:
			batch = append(batch, v)
		case <-wait:
			break collect
		case <-done:
			break collect
		case <-b.kick:
			wait = nil // a reader is waiting: take what is queued, no more
		}
	}
	if err := b.write(ctx, batch); err != nil {
		b.dropped.Add(int64(len(batch)))
		if f := b.onError.Load(); f != nil {
			(*f)(err, len(batch))
		}
	}
	b.mu.Lock()
	b.handled += int64(len(batch))
	close(b.handledCh)
	b.handledCh = make(chan struct{})
	b.mu.Unlock()
}

// sync returns once every item recorded before it was called has been
// written (or lost to a failed write), cutting the linger short: a reader
// of the store sees what the hot paths recorded before it asked. Without
// run it gives up after one linger.
func (b *batcher[T]) sync(ctx context.Context) error {
	target := b.queued.Load()
	for looked := false; !looked || b.running.Load(); looked = true {
		b.mu.Lock()
		if b.handled >= target {
			b.mu.Unlock()
			return nil
		}
		ch := b.handledCh
		b.mu.Unlock()
		select {
		case b.kick <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(linger):
			// run may have stopped since; look again
		}
	}
	return nil
}
