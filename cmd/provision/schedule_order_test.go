package main

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// takeAll has every name ask s for a slot at once, holding it for hold;
// it returns the order they got one in, and how many held one at once at
// most.
func takeAll(s *scheduler, names []string, hold time.Duration) (order []string, most int) {
	var mu sync.Mutex
	holding := 0
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			release := s.take(n)
			mu.Lock()
			order = append(order, n)
			holding++
			most = max(most, holding)
			mu.Unlock()
			time.Sleep(hold)
			mu.Lock()
			holding--
			mu.Unlock()
			release()
		})
	}
	wg.Wait()
	return order, most
}

// The tests that took longest in CI get the slots first, whatever order
// they asked in; the others follow.
func TestSchedulerLongestFirst(t *testing.T) {
	s := &scheduler{free: 1, groups: map[string]bool{}}
	got, _ := takeAll(s, []string{"TestCLIOutput", "TestVMDeploy/bios", "TestDemoInterrupted", buildDiskImage, "TestVMDeploy/raid1"}, time.Millisecond)
	want := []string{buildDiskImage, "TestVMDeploy/raid1", "TestVMDeploy/bios", "TestDemoInterrupted", "TestCLIOutput"}
	if !slices.Equal(got, want) {
		t.Fatalf("slots given in the order %v, want %v", got, want)
	}
}

// At most as many hold slots as there are; the two demo tests never hold
// slots at once, even with slots free.
func TestSchedulerLimits(t *testing.T) {
	s := &scheduler{free: 2, groups: map[string]bool{}}
	if _, most := takeAll(s, []string{"TestA", "TestB", "TestC", "TestD"}, 200*time.Millisecond); most != 2 {
		t.Errorf("%d held slots at once, of 2", most)
	}
	s = &scheduler{free: 3, groups: map[string]bool{}}
	if _, most := takeAll(s, []string{"TestDemoOnce", "TestDemoInterrupted"}, 200*time.Millisecond); most != 1 {
		t.Errorf("the demo tests held %d slots at once", most)
	}
}
