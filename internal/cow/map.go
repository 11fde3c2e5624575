package cow

import (
	"hash/maphash"
	"iter"
	"maps"
)

const shardCount = 256

// Map is a copy-on-write hash map; the zero value is not ready, use New.
type Map[K comparable, V any] struct {
	seed   maphash.Seed
	owner  *byte // this version's identity: its own shards carry it
	n      int
	shards [shardCount]*shard[K, V]
}

type shard[K comparable, V any] struct {
	owner *byte
	m     map[K]V
}

// New returns an empty Map.
func New[K comparable, V any]() *Map[K, V] {
	return &Map[K, V]{seed: maphash.MakeSeed(), owner: new(byte)}
}

// NewSized returns an empty Map with room for about n keys: a Map filled
// at once (a registry loaded at start-up) does not grow its shards on
// the way.
func NewSized[K comparable, V any](n int) *Map[K, V] {
	m := New[K, V]()
	if per := n / shardCount * 9 / 8; per > 0 {
		for i := range m.shards {
			m.shards[i] = &shard[K, V]{owner: m.owner, m: make(map[K]V, per)}
		}
	}
	return m
}

// Clone returns a new version of m: writes to either are not seen by the
// other. It costs a copy of the shard table (2 KiB), whatever the size.
// Clone counts as a write to m (both give up the shards they share), so
// it must not run at the same time as another Clone or write of m.
func (m *Map[K, V]) Clone() *Map[K, V] {
	c := *m
	c.owner, m.owner = new(byte), new(byte)
	return &c
}

func (m *Map[K, V]) index(k K) int {
	return int(maphash.Comparable(m.seed, k) % shardCount)
}

// Get returns the value of k, and whether k is there.
func (m *Map[K, V]) Get(k K) (V, bool) {
	var v V
	sh := m.shards[m.index(k)]
	if sh == nil {
		return v, false
	}
	v, ok := sh.m[k]
	return v, ok
}

// At returns the value of k, the zero value when k is not there.
func (m *Map[K, V]) At(k K) V {
	v, _ := m.Get(k)
	return v
}

// Len returns the number of keys.
func (m *Map[K, V]) Len() int { return m.n }

// own returns shard i, made this version's own first.
func (m *Map[K, V]) own(i int) *shard[K, V] {
	sh := m.shards[i]
	if sh != nil && sh.owner == m.owner {
		return sh
	}
	c := &shard[K, V]{owner: m.owner}
	if sh != nil {
		c.m = maps.Clone(sh.m)
	} else {
		c.m = map[K]V{}
	}
	m.shards[i] = c
	return c
}

// Set puts v at k.
func (m *Map[K, V]) Set(k K, v V) {
	sh := m.own(m.index(k))
	n := len(sh.m)
	sh.m[k] = v
	m.n += len(sh.m) - n
}

// Delete removes k, if it is there.
func (m *Map[K, V]) Delete(k K) {
	i := m.index(k)
	if sh := m.shards[i]; sh == nil {
		return
	} else if _, had := sh.m[k]; !had {
		return
	}
	delete(m.own(i).m, k)
	m.n--
}

// All yields every key and value, in no particular order.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for _, sh := range m.shards {
			if sh == nil {
				continue
			}
			for k, v := range sh.m {
				if !yield(k, v) {
					return
				}
			}
		}
	}
}

// Keys yields every key, in no particular order.
func (m *Map[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		for k := range m.All() {
			if !yield(k) {
				return
			}
		}
	}
}

// Values yields every value, in no particular order.
func (m *Map[K, V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		for _, v := range m.All() {
			if !yield(v) {
				return
			}
		}
	}
}
