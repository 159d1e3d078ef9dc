package tsharkdiff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/observe"
)

// This file is the oracle side: it runs tshark over a capture and turns its per-packet
// fields into the facts medscan must also report.

// requireTshark returns tshark's path, or skips (fails under MEDSCAN_REQUIRE_TSHARK=1).
func requireTshark(t *testing.T) string {
	t.Helper()
	return requireTool(t, "tshark", "Wireshark; Debian/Ubuntu package tshark")
}

// envRequire is the variable CI sets to 1 so that a missing tool or a forbidden capture
// fails the tests rather than skipping them.
const envRequire = "MEDSCAN_REQUIRE_TSHARK"

// requireTool finds a program. A missing tool skips the test, saying what provides it,
// or fails it under MEDSCAN_REQUIRE_TSHARK=1.
func requireTool(t *testing.T, name, what string) string {
	t.Helper()
	return testproc.Need(t, envRequire, name, what)
}

// tsHandshake is one TLS handshake as tshark decoded it: a ServerHello and what followed
// it on the same TCP stream.
type tsHandshake struct {
	Frame       int // the ServerHello's frame, to point a reader at it
	Client      string
	Host        string
	Port        int
	SNI         string
	Version     string // observe.VersionName of the negotiated version
	Suite       string // observe.SuiteName of the selected suite
	ServerCerts []string
	ClientCerts []string
	CertRequest bool
	DHBits      int
}

// key is every compared field, so that identical handshakes count once.
func (h tsHandshake) key() string {
	return fmt.Sprintf("%s|%s|%d|%s|%s|%s|%s|%s|%t|%d", h.Client, h.Host, h.Port, h.SNI, h.Version, h.Suite,
		strings.Join(h.ServerCerts, ","), strings.Join(h.ClientCerts, ","), h.CertRequest, h.DHBits)
}

// tsAuth is an HTTP Authorization (or Proxy-Authorization) header's scheme.
type tsAuth struct {
	Frame  int
	Host   string
	Port   int
	Scheme string
}

// tsMQTT is an MQTT CONNECT's credential flags.
type tsMQTT struct {
	Frame    int
	Host     string
	Port     int
	Username bool
	Password bool
}

// tsFacts is everything tshark read out of one capture that the comparison uses.
type tsFacts struct {
	Handshakes []tsHandshake
	Auth       []tsAuth
	MQTT       []tsMQTT
	Certs      map[string][]byte // DER by SHA-256 hex, server and client certificates alike
}

// The fields asked of tshark, in column order. Multi-valued fields are joined with the
// aggregator, a byte that no field value here contains (Digest credentials hold commas).
var tsharkFields = []string{
	"frame.number", "tcp.stream",
	"ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
	"tls.handshake.type", "tls.handshake.version", "tls.handshake.extensions.supported_version",
	"tls.handshake.ciphersuite", "tls.handshake.extensions_server_name",
	"tls.handshake.certificate", "tls.handshake.p",
	"http.authorization", "http.proxy_authorization",
	"mqtt.msgtype", "mqtt.conflag.uname", "mqtt.conflag.passwd",
}

const (
	colFrame = iota
	colStream
	colIPSrc
	colIP6Src
	colSrcPort
	colIPDst
	colIP6Dst
	colDstPort
	colHSType
	colHSVersion
	colSupportedVersion
	colSuite
	colSNI
	colCert
	colDHP
	colAuth
	colProxyAuth
	colMQTTType
	colMQTTUser
	colMQTTPass
)

const aggregator = "\x1f"

// tsharkArgs decodes TLS on every port by content (the TCP heuristics run before the
// port table, as medscan's detection does) and reassembles records across segments.
// extra options go first: "-d tcp.port==N,mysql" makes tshark read a protocol that
// upgrades to TLS in place on a port it does not know it by, with its own STARTTLS code.
func tsharkArgs(file string, extra ...string) []string {
	args := append(slices.Clone(extra), "-n", "-r", file,
		"-o", "tls.desegment_ssl_records:TRUE",
		"-o", "tls.desegment_ssl_application_data:TRUE",
		"-o", "tcp.desegment_tcp_streams:TRUE",
		"-o", "tcp.try_heuristic_first:TRUE",
		"--enable-heuristic", "tls_tcp",
		"--enable-heuristic", "http_tcp",
		"-Y", "tls.handshake or http.request or mqtt.msgtype == 1",
		"-T", "fields", "-E", "separator=/t", "-E", "aggregator="+aggregator, "-E", "occurrence=a",
	)
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	return args
}

// runTshark reads one capture with tshark and returns its facts. A capture of our own
// (strict) must read cleanly. One given from outside may be cut short, where tshark
// reports an error after the packets it read, which are still compared; one that tshark
// cannot read at all gives no oracle, and its comparison is skipped.
func runTshark(t *testing.T, tshark, file string, strict bool, extra ...string) tsFacts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, tsharkArgs(file, extra...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		switch {
		case strict || ctx.Err() != nil:
			t.Fatalf("tshark on %s: %v\n%s", file, err, errb.String())
		case out.Len() == 0:
			t.Skipf("skipping: tshark cannot read %s, so there is nothing to compare: %v\n%s", file, err, errb.String())
		default:
			t.Logf("tshark on %s: %v (the packets before the error are compared)\n%s", file, err, errb.String())
		}
	}
	facts, err := parseTsharkFields(out.String())
	if err != nil {
		t.Fatalf("tshark on %s: %v", file, err)
	}
	return facts
}

// streamState follows one TCP stream through its handshakes.
type streamState struct {
	sni     string // from the latest ClientHello
	current int    // index in facts.Handshakes of the latest ServerHello; -1 before one
}

// parseTsharkFields turns tshark's field rows into facts. Handshake messages are
// attributed by direction: a Certificate from the ServerHello's sender is the server's
// chain, one from the other side is the client's.
func parseTsharkFields(out string) (tsFacts, error) {
	facts := tsFacts{Certs: map[string][]byte{}}
	streams := map[string]*streamState{}
	for line := range strings.SplitSeq(out, "\n") {
		if line == "" {
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != len(tsharkFields) {
			return facts, fmt.Errorf("tshark row has %d fields, want %d: %q", len(col), len(tsharkFields), line)
		}
		frame, _ := strconv.Atoi(col[colFrame])
		src, dst := lastValue(col[colIPSrc]), lastValue(col[colIPDst])
		if v := lastValue(col[colIP6Src]); v != "" {
			src, dst = v, lastValue(col[colIP6Dst])
		}
		sport, _ := strconv.Atoi(lastValue(col[colSrcPort]))
		dport, _ := strconv.Atoi(lastValue(col[colDstPort]))

		if col[colHSType] != "" {
			if err := facts.addTLS(streams, col, frame, src, dst, sport); err != nil {
				return facts, fmt.Errorf("frame %d: %w", frame, err)
			}
		}
		for _, c := range []string{col[colAuth], col[colProxyAuth]} {
			for _, v := range values(c) {
				scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
				facts.Auth = append(facts.Auth, tsAuth{Frame: frame, Host: dst, Port: dport, Scheme: scheme})
			}
		}
		if col[colMQTTType] != "" {
			users, passes := values(col[colMQTTUser]), values(col[colMQTTPass])
			for i := range min(len(users), len(passes)) {
				facts.MQTT = append(facts.MQTT, tsMQTT{Frame: frame, Host: dst, Port: dport,
					Username: tsBool(users[i]), Password: tsBool(passes[i])})
			}
		}
	}
	return facts, nil
}

func (facts *tsFacts) addTLS(streams map[string]*streamState, col []string, frame int, src, dst string, sport int) error {
	key := col[colStream]
	st := streams[key]
	if st == nil {
		st = &streamState{current: -1}
		streams[key] = st
	}
	types := values(col[colHSType])
	if slices.Contains(types, "1") {
		st.sni = firstValue(col[colSNI])
	}
	if slices.Contains(types, "2") {
		h := tsHandshake{Frame: frame, Client: dst, Host: src, Port: sport, SNI: st.sni}
		v := firstValue(col[colSupportedVersion])
		if v == "" {
			v = firstValue(col[colHSVersion])
		}
		id, err := parseHex16(v)
		if err != nil {
			return fmt.Errorf("ServerHello version: %w", err)
		}
		h.Version = observe.VersionName(id)
		if id, err = parseHex16(firstValue(col[colSuite])); err != nil {
			return fmt.Errorf("ServerHello cipher suite: %w", err)
		}
		h.Suite = observe.SuiteName(id)
		facts.Handshakes = append(facts.Handshakes, h)
		st.current = len(facts.Handshakes) - 1
	}
	if st.current < 0 {
		return nil
	}
	h := &facts.Handshakes[st.current]
	fromServer := src == h.Host && sport == h.Port
	if slices.Contains(types, "11") {
		for _, v := range values(col[colCert]) {
			der, err := hex.DecodeString(strings.ReplaceAll(v, ":", ""))
			if err != nil {
				return fmt.Errorf("certificate: %w", err)
			}
			sum := sha256.Sum256(der)
			id := hex.EncodeToString(sum[:])
			facts.Certs[id] = der
			if fromServer {
				h.ServerCerts = append(h.ServerCerts, id)
			} else {
				h.ClientCerts = append(h.ClientCerts, id)
			}
		}
	}
	if fromServer && slices.Contains(types, "13") {
		h.CertRequest = true
	}
	if p := firstValue(col[colDHP]); p != "" && fromServer {
		raw, err := hex.DecodeString(strings.ReplaceAll(p, ":", ""))
		if err != nil {
			return fmt.Errorf("DH p: %w", err)
		}
		h.DHBits = new(big.Int).SetBytes(raw).BitLen()
	}
	return nil
}

// values splits an aggregated field; an empty field has no values.
func values(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, aggregator)
}

func firstValue(s string) string {
	v, _, _ := strings.Cut(s, aggregator)
	return v
}

// lastValue takes the innermost of repeated layers (IP in IP: the tunnelled packet).
func lastValue(s string) string {
	if i := strings.LastIndex(s, aggregator); i >= 0 {
		return s[i+len(aggregator):]
	}
	return s
}

// tsBool reads a boolean field, which tshark prints as 1/0 (4.x) or True/False (3.x).
func tsBool(s string) bool {
	return s == "1" || strings.EqualFold(s, "true")
}

func parseHex16(s string) (uint16, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 16)
	if err != nil {
		return 0, fmt.Errorf("not a 16-bit hex value: %q", s)
	}
	return uint16(v), nil
}

func TestParseTsharkFields(t *testing.T) {
	row := func(cells map[int]string) string {
		c := make([]string, len(tsharkFields))
		for i, v := range cells {
			c[i] = v
		}
		return strings.Join(c, "\t")
	}
	a := aggregator
	server, client := "10.0.0.1", "10.0.0.2"
	out := strings.Join([]string{
		row(map[int]string{colFrame: "1", colStream: "0", colIPSrc: client, colSrcPort: "5000", colIPDst: server, colDstPort: "443",
			colHSType: "1", colHSVersion: "0x0303", colSupportedVersion: "0x0304" + a + "0x0303", colSuite: "0x1301" + a + "0xc02f", colSNI: "a.example"}),
		row(map[int]string{colFrame: "2", colStream: "0", colIPSrc: server, colSrcPort: "443", colIPDst: client, colDstPort: "5000",
			colHSType: "2" + a + "11" + a + "12" + a + "13" + a + "14", colHSVersion: "0x0303", colSuite: "0x009e",
			colCert: "3001" + a + "3002", colDHP: "00ff01"}),
		row(map[int]string{colFrame: "3", colStream: "0", colIPSrc: client, colSrcPort: "5000", colIPDst: server, colDstPort: "443",
			colHSType: "11" + a + "16" + a + "15", colCert: "3003"}),
		row(map[int]string{colFrame: "4", colStream: "1", colIP6Src: "::1", colSrcPort: "5001", colIP6Dst: "::2", colDstPort: "8443",
			colHSType: "1", colHSVersion: "0x0303", colSNI: "b.example"}),
		row(map[int]string{colFrame: "5", colStream: "1", colIP6Src: "::2", colSrcPort: "8443", colIP6Dst: "::1", colDstPort: "5001",
			colHSType: "2", colHSVersion: "0x0303", colSupportedVersion: "0x0304", colSuite: "0x1302"}),
		row(map[int]string{colFrame: "6", colStream: "2", colIPSrc: client, colSrcPort: "5002", colIPDst: server, colDstPort: "80",
			colAuth: "Basic  dXNlcjpwYXNz", colProxyAuth: `Digest username="a", realm="b"`}),
		row(map[int]string{colFrame: "7", colStream: "3", colIPSrc: client, colSrcPort: "5003", colIPDst: server, colDstPort: "1883",
			colMQTTType: "1" + a + "3", colMQTTUser: "1", colMQTTPass: "0"}),
	}, "\n") + "\n"
	facts, err := parseTsharkFields(out)
	if err != nil {
		t.Fatal(err)
	}
	sha := func(h string) string {
		b, _ := hex.DecodeString(h)
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	want := []tsHandshake{
		{Frame: 2, Client: client, Host: server, Port: 443, SNI: "a.example", Version: "TLSv1.2",
			Suite: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", ServerCerts: []string{sha("3001"), sha("3002")},
			ClientCerts: []string{sha("3003")}, CertRequest: true, DHBits: 16},
		{Frame: 5, Client: "::1", Host: "::2", Port: 8443, SNI: "b.example", Version: "TLSv1.3", Suite: "TLS_AES_256_GCM_SHA384"},
	}
	if len(facts.Handshakes) != len(want) {
		t.Fatalf("got %d handshakes, want %d: %+v", len(facts.Handshakes), len(want), facts.Handshakes)
	}
	for i := range want {
		if facts.Handshakes[i].key() != want[i].key() || facts.Handshakes[i].Frame != want[i].Frame {
			t.Errorf("handshake %d = %+v, want %+v", i, facts.Handshakes[i], want[i])
		}
	}
	if len(facts.Certs) != 3 {
		t.Errorf("got %d certificates, want 3", len(facts.Certs))
	}
	wantAuth := []tsAuth{{6, server, 80, "Basic"}, {6, server, 80, "Digest"}}
	if !slices.Equal(facts.Auth, wantAuth) {
		t.Errorf("auth = %+v, want %+v", facts.Auth, wantAuth)
	}
	wantMQTT := []tsMQTT{{7, server, 1883, true, false}}
	if !slices.Equal(facts.MQTT, wantMQTT) {
		t.Errorf("mqtt = %+v, want %+v", facts.MQTT, wantMQTT)
	}
	if _, err := parseTsharkFields("1\t2\n"); err == nil {
		t.Error("a short row was accepted")
	}
}
