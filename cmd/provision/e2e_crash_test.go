package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKillKeepsDataCDBRight: the appliance is killed (kill -9) while settings
// are being written, at random moments, in the middle of writing the
// data.cdb it keeps on disk for restarts (DATA/zone), and after a quiet
// spell; after every restart the data.cdb served at once is the one its
// registry's version makes (byte for byte what the same server serves
// once its zone's own is put together) and holds every write that was
// acknowledged before the kill (or the one after it, in flight at the
// kill, if the registry committed it), and after a quiet spell it is the file
// kept on disk.
func TestKillKeepsDataCDBRight(t *testing.T) {
	defer parallel(t)()
	data := t.TempDir()
	s := startServer(t, data, "--zone", "dsas")
	fleet := filepath.Join(t.TempDir(), "fleet.yaml")
	os.WriteFile(fleet, fleetYAML(3000), 0o644)
	s.ok("import", fleet)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 34))

	var mu sync.Mutex
	acked := map[string]string{} // setting -> the last value acknowledged
	var inFlight [2]string       // the one write sent but maybe not acknowledged (key, value)
	writes := func(s *server, stop <-chan struct{}, done chan<- int) {
		n := 0
		defer func() { done <- n }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key, value := fmt.Sprintf("crash.k%d", i%17), fmt.Sprint(seed%1000, "-", i)
			mu.Lock()
			inFlight = [2]string{key, value}
			mu.Unlock()
			req, _ := http.NewRequest("PUT", s.URL+"/api/v1/settings/"+key, strings.NewReader(`{"value":"`+value+`"}`))
			req.Header.Set("Authorization", "Bearer "+s.Token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // killed
			}
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				mu.Lock()
				acked[key] = value
				mu.Unlock()
				n++
			}
		}
	}
	zoneDir := filepath.Join(data, "zone")
	for round := range 6 {
		stop, done := make(chan struct{}), make(chan int, 1)
		go writes(s, stop, done)
		how := ""
		switch round % 3 {
		case 0:
			how = "at a random moment"
			time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		case 1:
			how = "while the data.cdb kept on disk is being written"
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				if tmp, _ := filepath.Glob(filepath.Join(zoneDir, ".data-*.tmp")); len(tmp) > 0 {
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
		case 2:
			how = "after a quiet spell"
			time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
			close(stop)
			<-done
			time.Sleep(4 * time.Second) // the last version kept on disk (at most every 2 s)
		}
		s.Kill()
		if round%3 != 2 {
			close(stop)
			t.Logf("round %d: killed %s after %d writes", round, how, <-done)
		}
		restarted := time.Now()
		s = startServer(t, data, "--zone", "dsas")
		first, etag, modified := getCDB(t, s.URL)
		// Once the zone's own data.cdb is put together (a few ms for
		// this fleet), the server serves it instead of the file.
		time.Sleep(time.Second)
		own, ownTag, _ := getCDB(t, s.URL)
		if etag != ownTag || string(first) != string(own) {
			t.Fatalf("round %d (killed %s): the data.cdb served at once (%d bytes, ETag %s) is not the registry's (%d bytes, ETag %s)",
				round, how, len(first), etag, len(own), ownTag)
		}
		mu.Lock()
		for key, value := range acked {
			if !holds(own, key+".dsas", value) && (inFlight[0] != key || !holds(own, key+".dsas", inFlight[1])) {
				t.Fatalf("round %d (killed %s): setting %s=%s was acknowledged before the kill, and is not in data.cdb (ETag %s; the API says %q)",
					round, how, key, value, ownTag, s.ok("setting", "get", key))
			}
		}
		if inFlight[0] != "" && holds(own, inFlight[0]+".dsas", inFlight[1]) {
			acked[inFlight[0]] = inFlight[1] // it was written, its answer lost in the kill
		}
		inFlight = [2]string{}
		mu.Unlock()
		kept := strings.Contains(s.Log(), "data.cdb of this version kept on disk")
		if round%3 == 2 && (!kept || !modified.Before(restarted.Add(-time.Second))) {
			t.Fatalf("round %d (killed %s): the data.cdb kept on disk was not served at once (found: %t, Last-Modified %s, restart %s):\n%s",
				round, how, kept, modified, restarted, s.Log())
		}
	}
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
}

// getCDB fetches data.cdb, retrying until the server serves one.
func getCDB(t *testing.T, url string) (body []byte, etag string, modified time.Time) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/zone/data.cdb")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				modified, _ = http.ParseTime(resp.Header.Get("Last-Modified"))
				return body, resp.Header.Get("ETag"), modified
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/zone/data.cdb: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
