package observe

import (
	"fmt"
	"testing"
)

// TestReplaceUpdates: a later examination of the kept images supersedes an earlier one
// (a signature fetched after its image changes the verdict), and the images beyond
// MaxUpdates are counted as of the latest examination, not once per examination.
func TestReplaceUpdates(t *testing.T) {
	images := func(n int, verdict string) []UpdateImage {
		out := make([]UpdateImage, n)
		for i := range out {
			out[i] = UpdateImage{Origin: "http://10.0.0.5:80", Dir: "/fw", Name: fmt.Sprintf("img%d.bin", i),
				SHA256: fmt.Sprintf("%064x", i), Verdict: verdict, Clients: []string{"10.0.0.9"}}
		}
		return out
	}
	notKept := func(s *Set) (uint64, bool) {
		for _, c := range s.Counters {
			if c.Name == "updates"+notKeptSuffix {
				return c.Value, true
			}
		}
		return 0, false
	}
	s := NewSet()
	s.AddCounter("updates"+notKeptSuffix, 5) // counted by something else before: kept
	s.ReplaceUpdates(images(MaxUpdates+3, "unsigned"))
	if n, _ := notKept(s); len(s.Updates) != MaxUpdates || n != 8 {
		t.Fatalf("%d images, %d not kept; want %d and 8", len(s.Updates), n, MaxUpdates)
	}
	s.ReplaceUpdates(images(MaxUpdates+1, "unsigned"))
	if n, _ := notKept(s); n != 6 {
		t.Fatalf("after a second examination %d not kept, want 6", n)
	}
	s.ReplaceUpdates(images(2, "verified"))
	if n, _ := notKept(s); len(s.Updates) != 2 || n != 5 || s.Updates[0].Verdict != "verified" {
		t.Fatalf("after a third examination: %d images (%+v), %d not kept", len(s.Updates), s.Updates[0], n)
	}
	s.AddUpdate(UpdateImage{Origin: "http://10.0.0.5:80", Dir: "/fw", Name: "img0.bin", SHA256: fmt.Sprintf("%064x", 0),
		Clients: []string{"10.0.0.10"}})
	if len(s.Updates) != 2 || len(s.Updates[0].Clients) != 2 {
		t.Fatalf("AddUpdate after a replacement does not merge: %+v", s.Updates)
	}
	z := NewSet()
	z.ReplaceUpdates(images(MaxUpdates+1, "unsigned"))
	z.ReplaceUpdates(nil)
	if _, ok := notKept(z); ok || len(z.Updates) != 0 {
		t.Fatalf("an empty examination leaves %d images and counters %+v", len(z.Updates), z.Counters)
	}
}
