package main

import (
	"os"
	"path/filepath"
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
	s := newScheduler(1, "")
	got, _ := takeAll(s, []string{"TestCLIOutput", "TestVMDeploy/bios", "TestDemoInterrupted", buildDiskImage, "TestVMDeploy/raid1"}, time.Millisecond)
	want := []string{buildDiskImage, "TestVMDeploy/raid1", "TestVMDeploy/bios", "TestDemoInterrupted", "TestCLIOutput"}
	if !slices.Equal(got, want) {
		t.Fatalf("slots given in the order %v, want %v", got, want)
	}
}

// At most as many hold slots as there are; the two demo tests never hold
// slots at once, even with slots free.
func TestSchedulerLimits(t *testing.T) {
	s := newScheduler(2, "")
	if _, most := takeAll(s, []string{"TestA", "TestB", "TestC", "TestD"}, 200*time.Millisecond); most != 2 {
		t.Errorf("%d held slots at once, of 2", most)
	}
	s = newScheduler(3, "")
	if _, most := takeAll(s, []string{"TestDemoOnce", "TestDemoInterrupted"}, 200*time.Millisecond); most != 1 {
		t.Errorf("the demo tests held %d slots at once", most)
	}
}

// While the hold file exists only the builds get slots, free ones
// notwithstanding; once it is gone the tests get theirs.
func TestSchedulerHold(t *testing.T) {
	hold := filepath.Join(t.TempDir(), "hold")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := newScheduler(3, hold)
	got := make(chan string, 2)
	for _, n := range []string{"TestCLIOutput", buildDiskImage} {
		go func() {
			release := s.take(n)
			got <- n
			release()
		}()
	}
	if n := <-got; n != buildDiskImage {
		t.Fatalf("%s got a slot during the hold", n)
	}
	select {
	case n := <-got:
		t.Fatalf("%s got a slot during the hold", n)
	case <-s.released:
		t.Fatal("released with the hold file still there")
	case <-time.After(time.Second):
	}
	if err := os.Remove(hold); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != "TestCLIOutput" {
			t.Fatalf("after the hold, %s got a slot", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no slot 10 s after the hold file was removed")
	}
	<-s.released
}
