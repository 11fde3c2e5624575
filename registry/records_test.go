package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestStaticRecords(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	r.SetRecordPolicy(func(s *Snapshot, rr dns.RR) error {
		if owner := rr.Header().Name; owner == "web001.dsas." {
			return conflictf("%s is owned by system web001", owner)
		}
		return nil
	})
	added, err := r.AddRecords(ctx, []string{"mail.dsas. 3600 IN A 10.0.0.25", "MAIL.dsas. 3600 IN A 10.0.0.25", "www.dsas. 300 IN CNAME web001.dsas."}, false)
	if err != nil || len(added) != 2 {
		t.Fatalf("added %v, %v", added, err)
	}
	_, err = r.AddRecords(ctx, []string{"web001.dsas. 60 IN A 10.0.0.9", "x.example.com. 60 IN A 1.2.3.4", "nonsense", "ok.dsas. 60 IN TXT \"fine\""}, false)
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 || !strings.Contains(err.Error(), "owned by system web001") || !strings.Contains(err.Error(), "outside zone dsas.") {
		t.Fatalf("want 3 problems, got %v", err)
	}
	if n := len(r.Snapshot().Records()); n != 2 {
		t.Fatalf("a refused batch wrote records: %d", n)
	}
	r.Close()
	r2 := reopen(t, path)
	if got := fmt.Sprint(r2.Snapshot().Records()); !strings.Contains(got, "mail.dsas.\t3600\tIN\tA\t10.0.0.25") {
		t.Fatalf("after reopen: %s", got)
	}
	if _, err := r2.AddRecords(ctx, []string{"mail.dsas. 3600 IN A 10.0.0.26"}, true); err != nil {
		t.Fatal(err)
	}
	if got := r2.Snapshot().Records(); len(got) != 1 || !strings.HasSuffix(got[0], "10.0.0.26") {
		t.Fatalf("replace: %v", got)
	}
	if err := r2.RemoveRecord(ctx, "mail.dsas. 3600 IN A 10.0.0.26"); err != nil {
		t.Fatal(err)
	}
	if err := r2.RemoveRecord(ctx, "mail.dsas. 3600 IN A 10.0.0.26"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
}
