package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
)

// keySet returns a set in which each server presents one certificate; facts give each
// certificate a key type and SPKI digest (the store never parses DER).
func keySet(at time.Time, certs map[string][3]string) *observe.Set {
	s := observe.NewSet()
	for server, c := range certs {
		der := []byte(c[0])
		s.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ap("10.0.0.99:50000"), Server: netip.MustParseAddrPort(server)},
			FirstSeen: at, LastSeen: at, SawServerHello: true, Version: 0x0303, Source: observe.SourcePassive}, [][]byte{der}, nil)
		s.Certificates[sha256.Sum256(der)].Facts = &observe.CertFacts{Subject: "CN=" + c[0], KeyType: c[1], SPKISHA256: c[2]}
	}
	return s
}

func TestStoreKeys(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	spkiA, spkiB, spkiEC := hexSHA([]byte("key a")), hexSHA([]byte("key b")), hexSHA([]byte("key ec"))
	// Scan 1: pump-1 and pump-2 share key A in two certificates; the EHR has key B.
	if _, err := save(ctx, s, testInfo(), keySet(t0, map[string][3]string{
		"10.0.0.11:443": {"pump-1", "rsa", spkiA},
		"10.0.0.12:443": {"pump-2", "rsa", spkiA},
		"10.0.0.20:443": {"ehr", "rsa", spkiB},
		"10.0.0.30:443": {"engine", "ecdsa", spkiEC},
	}), nil); err != nil {
		t.Fatal(err)
	}
	// Scan 2, a month later: pump-1 again.
	later := t0.AddDate(0, 1, 0)
	if _, err := save(ctx, s, testInfo(), keySet(later, map[string][3]string{
		"10.0.0.11:443": {"pump-1", "rsa", spkiA},
	}), nil); err != nil {
		t.Fatal(err)
	}

	got := map[string]string{}
	if err := s.EachRSAKey(ctx, func(spki string, der []byte) error {
		if _, dup := got[spki]; dup {
			t.Errorf("key %s given twice", spki)
		}
		got[spki] = string(der)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// One certificate per key, the first stored; the ECDSA key is not an RSA key.
	if len(got) != 2 || got[spkiB] != "ehr" || (got[spkiA] != "pump-1" && got[spkiA] != "pump-2") {
		t.Errorf("EachRSAKey = %v", got)
	}
	stop := errors.New("stop")
	if err := s.EachRSAKey(ctx, func(string, []byte) error { return stop }); err != stop {
		t.Errorf("EachRSAKey error = %v, want fn's own", err)
	}

	sg, err := s.KeySightings(ctx, spkiA, 0)
	if err != nil {
		t.Fatal(err)
	}
	var where []string
	for _, k := range sg {
		where = append(where, k.String())
	}
	want := []string{"10.0.0.11:443 (scan 2)", "10.0.0.11:443 (scan 1)", "10.0.0.12:443 (scan 1)"}
	if !reflect.DeepEqual(where, want) {
		t.Errorf("KeySightings = %v, want %v", where, want)
	}
	if !sg[0].Time.Equal(later) || sg[0].Subject != "CN=pump-1" || sg[0].Role != "server" {
		t.Errorf("first sighting = %+v", sg[0])
	}
	if sg, _ := s.KeySightings(ctx, spkiA, 1); len(sg) != 1 {
		t.Errorf("limit 1 gave %d", len(sg))
	}
	if sg, err := s.KeySightings(ctx, hexSHA([]byte("unknown")), 0); err != nil || len(sg) != 0 {
		t.Errorf("unknown key: %v, %v", sg, err)
	}

	// Many keys at once: each key's sightings as KeySightings gives them, whatever the
	// chunk a key falls in (one key per query here, so that chunks are crossed).
	unknown := hexSHA([]byte("unknown"))
	for _, per := range []int{keysPerQuery, 1, 2} {
		t.Run(fmt.Sprint("per query ", per), func(t *testing.T) {
			defer func(old int) { keysPerQuery = old }(keysPerQuery)
			keysPerQuery = per
			all, err := s.KeySightingsOf(ctx, []string{spkiB, strings.ToUpper(spkiA), unknown, spkiEC})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := all[unknown]; ok || len(all) != 3 {
				t.Errorf("KeySightingsOf gave keys %v", slices.Collect(maps.Keys(all)))
			}
			for _, k := range []string{spkiA, spkiB, spkiEC} {
				one, _ := s.KeySightings(ctx, k, 0)
				if !reflect.DeepEqual(all[k], one) || len(one) == 0 {
					t.Errorf("key %s: KeySightingsOf %+v, KeySightings %+v", k, all[k], one)
				}
			}
		})
	}
}

func TestKeySightingString(t *testing.T) {
	for _, tc := range []struct {
		k    KeySighting
		want string
	}{
		{KeySighting{ScanID: 3, Host: "10.0.0.1", Port: 443, Role: "server"}, "10.0.0.1:443 (scan 3)"},
		{KeySighting{ScanID: 3, Host: "2001:db8::1", Port: 443, Role: "server"}, "[2001:db8::1]:443 (scan 3)"},
		{KeySighting{ScanID: 4, Host: "10.0.0.7", Role: "client"}, "client 10.0.0.7 (scan 4)"},
		{KeySighting{ScanID: 5}, "file (scan 5)"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.k, got, tc.want)
		}
	}
}

// TestSharedPrimesKeptOnce holds the kept batch GCD to one answer, the latest, given
// back as it was kept.
func TestSharedPrimesKeptOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if kept, err := s.SharedPrimes(ctx); kept != nil || err != nil {
		t.Fatalf("a new store keeps %v, %v", kept, err)
	}
	a := &KeptPrimes{Set: "set-a", Moduli: []string{"n1", "n2", "n3"}, Pairs: [][2]string{{"n1", "n2"}, {"n2", "n3"}},
		Product: []byte{1, 2, 3, 0}}
	b := &KeptPrimes{Set: "set-b", Moduli: []string{"n4"}, Pairs: [][2]string{}, Product: []byte{7}}
	for _, k := range []*KeptPrimes{a, b} {
		if err := s.KeepSharedPrimes(ctx, k); err != nil {
			t.Fatal(err)
		}
		if kept, err := s.SharedPrimes(ctx); err != nil || !reflect.DeepEqual(kept, k) {
			t.Fatalf("kept %+v, %v; want %+v", kept, err, k)
		}
	}
}
