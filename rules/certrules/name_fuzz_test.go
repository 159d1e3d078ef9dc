package certrules

import (
	"crypto/x509"
	"net"
	"strings"
	"testing"
)

// plainName reports whether s is a DNS name of letters, digits, '-' (not leading a
// label) and '_' in non-empty labels; with wildcard, the leftmost label may be "*" when
// at least two labels follow it (RFC 6125 forbids "*.com", crypto/x509 accepts it).
func plainName(s string, wildcard bool) bool {
	labels := strings.Split(s, ".")
	for i, l := range labels {
		if l == "" {
			return false
		}
		if wildcard && i == 0 && l == "*" {
			if len(labels) < 3 {
				return false
			}
			continue
		}
		for j, c := range l {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' && j != 0) {
				return false
			}
		}
	}
	return true
}

// flipASCII swaps the case of ASCII letters only: Unicode case mapping is not what a TLS
// client does to a server name.
func flipASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// FuzzNameMatches: matching the SNI a client sent (bytes from the wire) against a
// certificate's names (bytes from the wire) never panics, ignores ASCII case and one
// trailing dot of the requested name, and agrees with crypto/x509's VerifyHostname
// wherever RFC 6125 and Go agree: plain DNS names and wildcards with two labels or more
// below them, or addresses; Go never falls back to the common name, so only
// certificates with subjectAltNames are compared.
func FuzzNameMatches(f *testing.F) {
	f.Add("pacs.example,*.ward.example", "", "CN=pacs.example", "PACS.example.")
	f.Add("*.ward.example", "", "", "a.b.ward.example")
	f.Add("*.example", "", "", "a.example")
	f.Add("", "10.0.0.5,::ffff:10.0.0.6", "CN=10.0.0.5", "10.0.0.6")
	f.Add("", "", "CN=monitor-7.icu.local,O=Philips", "monitor-7.icu.local")
	f.Add("", "", "CN=*.icu.local", "bed1.icu.local")
	f.Add("xn--bcher-kva.example", "fe80::1%eth0", "", "fe80::1")
	f.Fuzz(func(t *testing.T, dnsList, ipList, subject, host string) {
		var dns, ips []string
		if dnsList != "" {
			dns = strings.Split(dnsList, ",")
		}
		if ipList != "" {
			ips = strings.Split(ipList, ",")
		}
		got := nameMatches(dns, ips, subject, host)
		if flipped := nameMatches(dns, ips, subject, flipASCII(host)); flipped != got {
			t.Fatalf("%q matches %v, %q matches %v", host, got, flipASCII(host), flipped)
		}
		if !strings.HasSuffix(host, ".") {
			if dotted := nameMatches(dns, ips, subject, host+"."); dotted != got {
				t.Fatalf("%q matches %v, with a trailing dot %v", host, got, dotted)
			}
		}
		if len(dns)+len(ips) == 0 || strings.ContainsAny(host, "[]%") {
			return
		}
		cert := &x509.Certificate{}
		for _, s := range ips {
			if strings.Contains(s, "%") {
				return // a zone: net.ParseIP and netip.ParseAddr differ
			}
			ip := net.ParseIP(s)
			if ip == nil {
				return
			}
			cert.IPAddresses = append(cert.IPAddresses, ip)
		}
		if net.ParseIP(host) == nil {
			if !plainName(strings.TrimSuffix(host, "."), false) {
				return
			}
			for _, n := range dns {
				if !plainName(n, true) {
					return
				}
			}
			cert.DNSNames = dns
		}
		want := cert.VerifyHostname(host) == nil
		if got != want {
			t.Fatalf("names %q, addresses %q, host %q: medscan says %v, crypto/x509 %v", dns, ips, host, got, want)
		}
	})
}
