package findings

import (
	"fmt"
	"reflect"
	"testing"
)

// Report order, and the names of targets and holders.

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

func TestHolderRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		role string
		file string
		want string
	}{
		{"10.20.1.11", 443, "server", "", "10.20.1.11:443"},
		{"2001:db8::1", 443, "server", "", "[2001:db8::1]:443"},
		{"10.20.1.7", 0, "client", "", "client 10.20.1.7"},
		{"", 0, "", "", "file"},
		{"", 0, "", FileRef("certs/chain.pem", 1), "file certs/chain.pem#2"},
	} {
		got := Holder(tc.host, tc.port, tc.role, tc.file)
		if got != tc.want {
			t.Errorf("Holder(%q, %d, %q) = %q, want %q", tc.host, tc.port, tc.role, got, tc.want)
		}
		if h, p, r, ok := ParseHolder(got); !ok || h != tc.host || p != tc.port || r != tc.role {
			t.Errorf("ParseHolder(%q) = %q, %d, %q, %v", got, h, p, r, ok)
		}
	}
	if _, _, _, ok := ParseHolder("somewhere"); ok {
		t.Error("ParseHolder read a name Holder never writes")
	}
}
