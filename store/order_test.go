package store

import (
	"cmp"
	"context"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
)

// hostOrderCases are hosts of every shape a finding has: none, IPv4, IPv6 with and
// without a zone, IPv4-mapped, and names.
var hostOrderCases = []string{"", "10.0.0.9", "10.0.0.10", "9.255.255.255", "255.255.255.255", "0.0.0.0", "::",
	"::1", "fe80::1", "fe80::1%eth0", "fe80::1%eth1", "fe80::2", "::ffff:10.0.0.9", "2001:db8::1", "pacs.example",
	"a", "Z", "10.0.0.9.example", "1.2.3.4:5"}

// TestHostOrder: the byte order of host_order is findings.CompareHosts' order, for every
// pair of the cases.
func TestHostOrder(t *testing.T) {
	for _, a := range hostOrderCases {
		for _, b := range hostOrderCases {
			if got, want := strings.Compare(hostOrder(a), hostOrder(b)), findings.CompareHosts(a, b); got != want {
				t.Errorf("%q vs %q: host_order compares %d, CompareHosts %d (%q, %q)", a, b, got, want, hostOrder(a), hostOrder(b))
			}
		}
	}
}

// FuzzHostOrder holds host_order's byte order to CompareHosts for any two strings a
// store may hold as a finding's host.
func FuzzHostOrder(f *testing.F) {
	for i, a := range hostOrderCases {
		f.Add(a, hostOrderCases[(i+1)%len(hostOrderCases)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := strings.Compare(hostOrder(a), hostOrder(b)), findings.CompareHosts(a, b); got != want {
			t.Errorf("%q vs %q: host_order compares %d, CompareHosts %d", a, b, got, want)
		}
	})
}

// TestMigrate0009FillsHostOrder: the findings stored before host_order get theirs.
func TestMigrate0009FillsHostOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	mustSave(t, s, testInfo(), fullSet(), testFindings())
	if _, err := s.db.Exec("UPDATE findings SET host_order = ''"); err != nil {
		t.Fatal(err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate0009(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.Query("SELECT host, host_order FROM findings")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var host, order string
		if err := rows.Scan(&host, &order); err != nil {
			t.Fatal(err)
		}
		if order != hostOrder(host) {
			t.Errorf("host %q: host_order %q, want %q", host, order, hostOrder(host))
		}
		n += cmp.Compare(len(host), 0)
	}
	if n == 0 {
		t.Fatal("no finding with a host to order")
	}
}
