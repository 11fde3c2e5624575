package cow

import (
	"maps"
	"math/rand/v2"
	"testing"
)

// TestAgainstMap applies random writes to a Map and its clones and to
// plain maps alongside: every version must keep its own contents.
func TestAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cur, want := New[int, int](), map[int]int{}
	type version struct {
		m    *Map[int, int]
		want map[int]int
	}
	var old []version
	for round := range 200 {
		next, nextWant := cur.Clone(), maps.Clone(want)
		for range rng.IntN(50) {
			k := rng.IntN(2000)
			if rng.IntN(3) == 0 {
				next.Delete(k)
				delete(nextWant, k)
			} else {
				next.Set(k, round)
				nextWant[k] = round
			}
		}
		old = append(old, version{cur, want})
		cur, want = next, nextWant
	}
	old = append(old, version{cur, want})
	for i, v := range old {
		if v.m.Len() != len(v.want) {
			t.Fatalf("version %d: Len %d, want %d", i, v.m.Len(), len(v.want))
		}
		got := maps.Collect(v.m.All())
		if !maps.Equal(got, v.want) {
			t.Fatalf("version %d: contents differ from the plain map", i)
		}
		for k, w := range v.want {
			if g, ok := v.m.Get(k); !ok || g != w {
				t.Fatalf("version %d: Get(%d) = %d, %v; want %d", i, k, g, ok, w)
			}
		}
		if _, ok := v.m.Get(-1); ok || v.m.At(-1) != 0 {
			t.Fatalf("version %d: a missing key is found", i)
		}
	}
}

// TestWriteAfterClone: writing to the original after a Clone must not
// show in the clone.
func TestWriteAfterClone(t *testing.T) {
	a := New[string, int]()
	a.Set("x", 1)
	b := a.Clone()
	a.Set("x", 2)
	a.Delete("y")
	a.Set("y", 3)
	if b.At("x") != 1 || b.Len() != 1 {
		t.Fatalf("clone sees the original's writes: x=%d len=%d", b.At("x"), b.Len())
	}
	b.Delete("x")
	if a.At("x") != 2 || a.Len() != 2 {
		t.Fatalf("original sees the clone's delete: x=%d len=%d", a.At("x"), a.Len())
	}
}

func BenchmarkCloneSet100k(b *testing.B) {
	m := New[string, int]()
	for i := range 100000 {
		m.Set(string(rune(i))+"key", i)
	}
	i := 0
	for b.Loop() {
		m = m.Clone()
		m.Set("new", i)
		i++
	}
}

func BenchmarkGet(b *testing.B) {
	m := New[string, int]()
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = "h" + string(rune(i+1000)) + ".dsas."
		m.Set(keys[i], i)
	}
	i := 0
	for b.Loop() {
		m.Get(keys[i%len(keys)])
		i++
	}
}

// TestNewSized: a Map made with room for its keys holds them as New's
// does, and its clones share its shards.
func TestNewSized(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 100000} {
		m := NewSized[int, int](n)
		for k := range n {
			m.Set(k, k)
		}
		c := m.Clone()
		c.Set(-1, -1)
		if m.Len() != n || c.Len() != n+1 || m.At(n/2) != n/2 || m.At(-1) != 0 || c.At(-1) != -1 {
			t.Errorf("NewSized(%d): Len %d, clone's %d", n, m.Len(), c.Len())
		}
	}
}
