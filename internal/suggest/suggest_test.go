package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"pacp", "pcap", 1}, {"scna", "scan", 1}, {"", "abc", 3}, {"fromat", "format", 1}, {"kitten", "sitting", 3},
		{"same", "same", 0}, {"ca", "abc", 3}, {"é", "e", 1}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	for _, c := range []struct {
		typed      string
		candidates []string
		want       string
	}{
		{"fial-on", []string{"fail-on", "fail-on-new", "db"}, "fail-on"},
		{"pacp", []string{"pcap", "ports", "pause"}, "pcap"},
		{"pacp", []string{"packets", "pcap"}, "pcap"}, // an edit beats a shared start
		{"PCAP", []string{"pcap"}, "pcap"},
		{"zzz", []string{"db", "pcap"}, ""},
		{"leaf_max_dayz", []string{"leaf_max_days", "leaf_high_days"}, "leaf_max_days"},
		{"thresh", []string{"thresholds", "trust"}, "thresholds"}, // most of the key as a start
		{"th", []string{"thresholds"}, ""},                        // too little to go on
		{"db", []string{"dc", "db2"}, "dc"},                       // ties go to the earlier
	} {
		if got := Closest(c.typed, c.candidates); got != c.want {
			t.Errorf("Closest(%q, %v) = %q, want %q", c.typed, c.candidates, got, c.want)
		}
	}
}
