package registry

import (
	"context"
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
}

// setOnError makes run call f with the error and the number of items of
// every batch that could not be written.
func (b *batcher[T]) setOnError(f func(err error, lost int)) { b.onError.Store(&f) }

func newBatcher[T any](size int, write func(context.Context, []T) error) *batcher[T] {
	return &batcher[T]{write: write, ch: make(chan T, size)}
}

func (b *batcher[T]) record(v T) {
	select {
	case b.ch <- v:
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
		}
	}
	if err := b.write(ctx, batch); err != nil {
		b.dropped.Add(int64(len(batch)))
		if f := b.onError.Load(); f != nil {
			(*f)(err, len(batch))
		}
	}
}
