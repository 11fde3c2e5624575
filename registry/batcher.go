package registry

import (
	"context"
	"sync/atomic"
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

// run writes queued items until ctx ends, then writes what is left.
func (b *batcher[T]) run(ctx context.Context) error {
	wctx := context.WithoutCancel(ctx)
	for {
		select {
		case v := <-b.ch:
			b.flush(wctx, v)
		case <-ctx.Done():
			for {
				select {
				case v := <-b.ch:
					b.flush(wctx, v)
				default:
					return nil
				}
			}
		}
	}
}

// flush writes v and whatever else is queued (up to 4096 items: one
// transaction, whatever its size, costs about one fsync).
func (b *batcher[T]) flush(ctx context.Context, v T) {
	batch := []T{v}
	for len(batch) < 4096 {
		select {
		case v := <-b.ch:
			batch = append(batch, v)
			continue
		default:
		}
		break
	}
	if err := b.write(ctx, batch); err != nil {
		b.dropped.Add(int64(len(batch)))
		if f := b.onError.Load(); f != nil {
			(*f)(err, len(batch))
		}
	}
}
