package findings

import (
	"fmt"
	"reflect"
	"testing"
)

// These two tests were part of the store's tests when the store lived in package
//  The functions they test are findings' (report order), which has no tests of
// its own yet; they stay beside the store, whose documents are sorted by them, until
// findings gets its own.

func TestCompareHosts(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"10.0.0.9", "10.0.0.10", -1},
		{"10.0.0.10", "9.0.0.1", 1},
		{"", "1.1.1.1", -1},
		{"1.1.1.1", "", 1},
		{"255.255.255.255", "::1", -1},
		{"::2", "::10", -1},
		{"1.1.1.1", "host.example", -1},
		{"a.example", "b.example", -1},
		{"10.0.0.1", "10.0.0.1", 0},
	} {
		if got := CompareHosts(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareHosts(%q, %q) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSortFindings(t *testing.T) {
	fs := []Finding{
		{Rule: "b", Severity: Low, Host: "10.0.0.2"},
		{Rule: "a", Severity: Low, Host: "10.0.0.10", Port: 2},
		{Rule: "a", Severity: Low, Host: "10.0.0.10", Port: 1, Subject: "y"},
		{Rule: "a", Severity: Low, Host: "10.0.0.10", Port: 1, Subject: "x"},
		{Rule: "a", Severity: Low, Host: "10.0.0.9", Port: 9},
		{Rule: "z", Severity: Critical, Host: "10.0.0.1"},
	}
	SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s/%s/%s/%d/%s", f.Severity, f.Rule, f.Host, f.Port, f.Subject))
	}
	want := []string{"critical/z/10.0.0.1/0/", "low/a/10.0.0.9/9/", "low/a/10.0.0.10/1/x", "low/a/10.0.0.10/1/y",
		"low/a/10.0.0.10/2/", "low/b/10.0.0.2/0/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
}
