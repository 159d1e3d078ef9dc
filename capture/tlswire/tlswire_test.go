package tlswire

import (
	"bytes"
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

func record(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func hsMsg(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// clientHelloBody is a minimal TLS 1.2 ClientHello offering the given suites.
func clientHelloBody(suites ...int) []byte {
	var s []byte
	for _, v := range suites {
		s = append(s, u16(v)...)
	}
	return cat(u16(0x0303), make([]byte, 32), []byte{0}, u16(len(s)), s, []byte{1, 0})
}

// serverHelloBody is a TLS 1.2 ServerHello choosing suite, without extensions.
func serverHelloBody(suite int) []byte {
	return cat(u16(0x0303), bytes.Repeat([]byte{7}, 32), []byte{0}, u16(suite), []byte{0})
}

func TestDetect(t *testing.T) {
	ch := record(22, hsMsg(1, clientHelloBody(0x002f)))
	sh := record(22, hsMsg(2, serverHelloBody(0x002f)))
	tests := []struct {
		name       string
		b          []byte
		verdict    dissect.Verdict
		fromServer bool
	}{
		{"empty", nil, dissect.NeedMore, false},
		{"one byte", ch[:1], dissect.NeedMore, false},
		{"five bytes", ch[:5], dissect.NeedMore, false},
		{"client hello", ch, dissect.Yes, false},
		{"server hello", sh, dissect.Yes, true},
		{"certificate first", record(22, hsMsg(11, nil)), dissect.Yes, true},
		{"alert", record(21, []byte{2, 40}), dissect.Yes, false},
		{"application data", record(23, make([]byte, 40)), dissect.Yes, false},
		{"ccs", record(20, []byte{1}), dissect.Yes, false},
		{"ccs too long", record(20, []byte{1, 1}), dissect.No, false},
		{"sslv3 record", []byte{22, 3, 0, 0, 4, 1, 0, 0, 0}, dissect.Yes, false},
		{"major version 2", []byte{22, 2, 0, 0, 4, 1}, dissect.No, false},
		{"minor 5", []byte{22, 3, 5, 0, 4, 1}, dissect.No, false},
		{"record too long", []byte{22, 3, 1, 0x48, 0x01, 1}, dissect.No, false},
		{"empty record", []byte{22, 3, 1, 0, 0, 1}, dissect.No, false},
		{"http", []byte("GET / HTTP/1.1\r\n"), dissect.No, false},
		{"mllp", []byte("\x0bMSH|^~\\&|"), dissect.No, false},
		{"sslv2 compatible hello", []byte{0x80, 0x2e, 1, 3, 1, 0, 0x15, 0, 0, 0, 0x10}, dissect.Yes, false},
		{"sslv2 hello", []byte{0x80, 0x2e, 1, 0, 2, 0, 0x15}, dissect.Yes, false},
		{"sslv2 hello short", []byte{0x80, 0x2e, 1, 0}, dissect.NeedMore, false},
		{"sslv2 bad version", []byte{0x80, 0x2e, 1, 4, 1, 0}, dissect.No, false},
		{"sslv2 server hello", []byte{0x83, 0x00, 4, 0, 1, 0, 2, 3, 0, 0, 3, 0, 16}, dissect.Yes, true},
		{"sslv2 server hello short", []byte{0x83, 0x00, 4, 0, 1, 0}, dissect.NeedMore, false},
		{"high bit garbage", []byte{0x80, 0x01, 1, 3, 1}, dissect.No, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Detect(tt.b)
			if m.Verdict != tt.verdict || m.FromServer != tt.fromServer {
				t.Errorf("Detect(% x) = %+v, want verdict %d fromServer %v", tt.b, m, tt.verdict, tt.fromServer)
			}
		})
	}
	if Dissector.Name != "tls" || Dissector.Detect == nil || Dissector.New == nil {
		t.Errorf("Dissector not filled: %+v", Dissector)
	}
}

// TestJA4SpecExample reproduces the worked example of the FoxIO JA4 specification
// (Chrome: t13d1516h2_8daaf6152771_e5627efa2ab1).
func TestJA4SpecExample(t *testing.T) {
	f := helloFacts{
		version:   0x0303,
		versions:  []uint16{0x0304, 0x0303},
		suites:    []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		exts:      []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015},
		sigAlgs:   []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		hasSNI:    true,
		hasALPN:   true,
		alpnFirst: []byte("h2"),
	}
	if got, want := ja4(&f), "t13d1516h2_8daaf6152771_e5627efa2ab1"; got != want {
		t.Errorf("ja4 = %s, want %s", got, want)
	}
}

func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		alpn []byte
		want string
	}{
		{nil, "00"},
		{[]byte("h2"), "h2"},
		{[]byte("http/1.1"), "h1"},
		{[]byte("h"), "hh"},
		{[]byte{0xab, 0xcd}, "ad"},
		{[]byte("hl7/"), "6f"}, // '/' is not alphanumeric: hex of 'h' (0x68) and '/' (0x2f)
	}
	for _, tt := range tests {
		if got := ja4ALPN(tt.alpn); got != tt.want {
			t.Errorf("ja4ALPN(%q) = %q, want %q", tt.alpn, got, tt.want)
		}
	}
}

// TestPublishedFingerprints compares JA3 and JA4 with the values nDPI publishes for the
// same captures (tests/cfgs/default/result/*.pcap.out in ntop/nDPI), an implementation
// independent of this one.
func TestPublishedFingerprints(t *testing.T) {
	dir := corpusDir(t)
	tests := []struct {
		file, client, ja3, ja4 string
	}{
		{"ndpi-selfsigned.pcap", "127.0.0.1:51607", "2a26b1a62e40d25d4de3babc9d532f30", "t12d6707h2_2955a3196ffa_c83f907a73d3"},
		{"ndpi-cert-too-long.pcap", "192.168.1.121:53911", "656b9a2f4de6ed4909e157482860ab3d", "t13d2613h2_2802a3db6c62_845d286b0d67"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := newRecorder()
			for _, f := range readFlows(t, filepath.Join(dir, "pcap", tt.file)) {
				if f.client.String() == tt.client {
					rec.run(f)
				}
			}
			if len(rec.sessions) != 1 {
				t.Fatalf("%d sessions for client %s", len(rec.sessions), tt.client)
			}
			if s := rec.sessions[0]; s.JA3 != tt.ja3 || s.JA4 != tt.ja4 {
				t.Errorf("JA3 %s JA4 %s, want %s %s", s.JA3, s.JA4, tt.ja3, tt.ja4)
			}
		})
	}
}

// run feeds client and server byte slices (each one Data call, client first) and ends.
func runBytes(client, server []byte) *recorder {
	rec := newRecorder()
	st := New(rec.context(observe.Flow{}))
	now := time.Unix(1600000000, 0)
	if len(client) > 0 {
		st.Data(dissect.ClientToServer, client, now)
	}
	if len(server) > 0 {
		st.Data(dissect.ServerToClient, server, now.Add(time.Millisecond))
	}
	st.End(now.Add(time.Second))
	return rec
}

func TestHandBuilt(t *testing.T) {
	// A 1024-bit prime sent with a leading zero byte, as some stacks do.
	p := append([]byte{0, 0x80}, make([]byte, 127)...)
	dheSKE := cat(u16(len(p)), p, u16(1), []byte{2}, u16(1), []byte{5}, u16(0x0401), u16(2), []byte{0, 0})
	ecdheSKE := cat([]byte{3}, u16(24), []byte{1, 4}, u16(0x0401), u16(0))
	cert := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	certMsg := hsMsg(11, cat([]byte{0, 0, 8}, []byte{0, 0, 5}, cert))
	sslv2Hello := []byte{0x80, 0x1f, 1, 3, 1, 0, 6, 0, 0, 0, 16, 0, 0, 4, 1, 0, 0x80}
	sslv2Hello = append(sslv2Hello, make([]byte, 16)...)
	sslv2Hello[1] = byte(len(sslv2Hello) - 2)
	sslv2ServerHello := cat([]byte{0x80, 0}, []byte{4, 0, 1}, u16(2), u16(len(cert)), u16(3), u16(16), cert, []byte{1, 0, 0x80}, make([]byte, 16))
	sslv2ServerHello[1] = byte(len(sslv2ServerHello) - 2)
	pureV2Hello := append([]byte{}, sslv2Hello...)
	pureV2Hello[3], pureV2Hello[4] = 0, 2

	tests := []struct {
		name           string
		client, server []byte
		check          func(t *testing.T, r *recorder)
	}{
		{"dhe key exchange", record(22, hsMsg(1, clientHelloBody(0x0039))),
			cat(record(22, cat(hsMsg(2, serverHelloBody(0x0039)), certMsg, hsMsg(12, dheSKE), hsMsg(14, nil)))),
			func(t *testing.T, r *recorder) {
				s := r.sessions[0]
				if s.DHBits != 1024 || s.Suite != 0x0039 || len(r.server[0]) != 1 || !bytes.Equal(r.server[0][0], cert) {
					t.Errorf("DHBits %d suite %#x chain %d", s.DHBits, s.Suite, len(r.server[0]))
				}
			}},
		{"ecdhe named curve", record(22, hsMsg(1, clientHelloBody(0xc02f))),
			record(22, cat(hsMsg(2, serverHelloBody(0xc02f)), hsMsg(12, ecdheSKE))),
			func(t *testing.T, r *recorder) {
				if r.sessions[0].ECDHCurve != 24 {
					t.Errorf("curve %d", r.sessions[0].ECDHCurve)
				}
			}},
		{"one message over many records", nil,
			func() []byte {
				msg := cat(hsMsg(2, serverHelloBody(0x002f)), certMsg)
				var out []byte
				for i := 0; i < len(msg); i += 3 {
					out = append(out, record(22, msg[i:min(i+3, len(msg))])...)
				}
				return out
			}(),
			func(t *testing.T, r *recorder) {
				if s := r.sessions[0]; s.Suite != 0x002f || len(r.server[0]) != 1 || s.SawClientHello {
					t.Errorf("session %+v chain %d", s, len(r.server[0]))
				}
			}},
		{"alert in clear", record(22, hsMsg(1, clientHelloBody(0x0004))), record(21, []byte{2, 40}),
			func(t *testing.T, r *recorder) {
				want := []observe.Alert{{FromServer: true, Level: 2, Description: 40}}
				if s := r.sessions[0]; len(s.Alerts) != 1 || s.Alerts[0] != want[0] || s.SawServerHello {
					t.Errorf("alerts %+v", s.Alerts)
				}
			}},
		{"sslv2 compatible hello", sslv2Hello, record(22, hsMsg(2, serverHelloBody(4))),
			func(t *testing.T, r *recorder) {
				s := r.sessions[0]
				if !s.SSLv2Hello || s.ClientVersion != 0x0301 || len(s.OfferedSuites) != 1 || s.OfferedSuites[0] != 4 || s.Version != 0x0303 {
					t.Errorf("session %+v", s)
				}
			}},
		{"sslv2 server hello", pureV2Hello, sslv2ServerHello,
			func(t *testing.T, r *recorder) {
				s := r.sessions[0]
				if s.Version != 0x0002 || len(r.server[0]) != 1 || !bytes.Equal(r.server[0][0], cert) {
					t.Errorf("session %+v", s)
				}
			}},
		{"handshake message too large", cat([]byte{22, 3, 1, 0, 4}, []byte{1, 0x05, 0, 0}), nil,
			func(t *testing.T, r *recorder) {
				if len(r.sessions) != 0 || r.counters["tls_handshake_too_large"] != 1 {
					t.Errorf("sessions %d counters %v", len(r.sessions), r.counters)
				}
			}},
		{"garbage after hello", cat(record(22, hsMsg(1, clientHelloBody(0x002f))), []byte("GET / HTTP/1.1\r\n")), nil,
			func(t *testing.T, r *recorder) {
				if len(r.sessions) != 1 || r.counters["tls_bad_records"] != 1 {
					t.Errorf("sessions %d counters %v", len(r.sessions), r.counters)
				}
			}},
		{"application data only", record(23, make([]byte, 64)), record(23, make([]byte, 64)),
			func(t *testing.T, r *recorder) {
				if len(r.sessions) != 0 || r.counters["tls_flows_without_handshake"] != 1 {
					t.Errorf("sessions %d counters %v", len(r.sessions), r.counters)
				}
			}},
		{"truncated client hello", record(22, hsMsg(1, clientHelloBody(0x002f)[:20])), nil,
			func(t *testing.T, r *recorder) {
				if len(r.sessions) != 0 || r.counters["tls_bad_hellos"] != 1 {
					t.Errorf("sessions %d counters %v", len(r.sessions), r.counters)
				}
			}},
		{"certificate request tls 1.0 layout", record(22, hsMsg(1, clientHelloBody(0x002f))),
			record(22, cat(hsMsg(2, cat(u16(0x0301), make([]byte, 32), []byte{0}, u16(0x002f), []byte{0})),
				hsMsg(13, cat([]byte{1, 1}, u16(0))))),
			func(t *testing.T, r *recorder) {
				if s := r.sessions[0]; !s.CertRequest || s.Version != tls.VersionTLS10 || len(r.counters) != 0 {
					t.Errorf("session %+v counters %v", s, r.counters)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBytes(tt.client, tt.server)
			if len(r.sessions) > 1 {
				t.Fatalf("%d sessions", len(r.sessions))
			}
			if len(r.sessions) == 0 && tt.check == nil {
				t.Fatal("no session")
			}
			tt.check(t, r)
		})
	}
}

func TestBitLen(t *testing.T) {
	tests := []struct {
		p    []byte
		want int
	}{
		{nil, 0}, {[]byte{0, 0}, 0}, {[]byte{1}, 1}, {[]byte{0, 0xff, 0}, 16}, {[]byte{0x7f, 0}, 15},
	}
	for _, tt := range tests {
		if got := bitLen(tt.p); got != tt.want {
			t.Errorf("bitLen(% x) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

// seedTranscripts are the corpus flows, or generated handshakes when it is absent.
func seedTranscripts(tb testing.TB) [][2][]byte {
	var out [][2][]byte
	func() {
		defer func() { _ = recover() }() // the corpus is absent: generated seeds only
		out = corpusPayloads(skipless{tb})
	}()
	p := getPKI(tb)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		var pair [2][]byte
		for _, e := range handshake(tb, &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}, ClientAuth: tls.RequestClientCert},
			&tls.Config{RootCAs: p.pool, ServerName: "medscan.test", MaxVersion: v, Certificates: []tls.Certificate{p.clientLeaf}}) {
			pair[e.dir] = append(pair[e.dir], e.data...)
		}
		out = append(out, pair)
	}
	return out
}

// skipless turns the corpus helper's Skip into a quiet panic, so that fuzz seeding goes on
// with generated bytes when the corpus is absent.
type skipless struct{ testing.TB }

func (s skipless) Skip(args ...any) { panic("skip") }

// FuzzStream feeds both directions from fuzz bytes: the first byte picks where the client
// bytes end, the second the chunk size.
func FuzzStream(f *testing.F) {
	// Inputs are kept small (the client's first 255 bytes, the server's first 8 KiB) so
	// that the fuzzer's minimisation of a new input stays quick.
	for _, tr := range seedTranscripts(f) {
		n := min(len(tr[0]), 255)
		server := tr[1][:min(len(tr[1]), 8<<10)]
		f.Add(append(append([]byte{byte(n), 7}, tr[0][:n]...), server...))
		f.Add(append(append([]byte{byte(n), 200}, tr[0][:n]...), server...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 || len(data) > 64<<10 {
			return
		}
		n, chunk := int(data[0]), int(data[1])+1
		data = data[2:]
		n = min(n, len(data))
		client, server := data[:n], data[n:]
		rec := newRecorder()
		st := New(rec.context(observe.Flow{}))
		now := time.Unix(1, 0)
		for len(client) > 0 || len(server) > 0 {
			if len(client) > 0 {
				k := min(chunk, len(client))
				st.Data(dissect.ClientToServer, client[:k], now)
				client = client[k:]
			}
			if len(server) > 0 {
				k := min(chunk, len(server))
				st.Data(dissect.ServerToClient, server[:k], now)
				server = server[k:]
			}
			if chunk%5 == 0 {
				st.Gap(dissect.ServerToClient, 10)
			}
		}
		st.End(now)
		if len(rec.sessions) > 1 {
			t.Fatalf("%d sessions", len(rec.sessions))
		}
		if !st.Done() {
			t.Fatal("not done after End")
		}
	})
}

// FuzzDetect checks that Detect never panics and that every prefix of bytes it claims
// was at least plausible (NeedMore or Yes), so the engine never drops a stream early.
func FuzzDetect(f *testing.F) {
	for _, tr := range seedTranscripts(f) {
		for _, b := range tr {
			f.Add(b[:min(len(b), 16)])
		}
	}
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := Detect(b)
		if m.Verdict != dissect.Yes {
			return
		}
		for i := 0; i < len(b); i++ {
			if Detect(b[:i]).Verdict == dissect.No {
				t.Fatalf("prefix %d of % x rejected, whole accepted", i, b)
			}
		}
	})
}

func BenchmarkHandshake(b *testing.B) {
	p := getPKI(b)
	events := handshake(b, &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}, ClientAuth: tls.RequireAnyClientCert},
		&tls.Config{RootCAs: p.pool, ServerName: "medscan.test", MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{p.clientLeaf}})
	total := 0
	for _, e := range events {
		total += len(e.data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	sink := newRecorder()
	ctx := sink.context(observe.Flow{})
	now := time.Unix(1, 0)
	for b.Loop() {
		sink.sessions, sink.server, sink.client = sink.sessions[:0], sink.server[:0], sink.client[:0]
		st := New(ctx)
		for _, e := range events {
			if st.Done() {
				break
			}
			st.Data(e.dir, e.data, now)
		}
		st.End(now)
	}
}

// TestSSLv2CipherChoice follows a whole SSLv2 handshake in the order it crosses the wire:
// the server offers several cipher kinds, and the client's CLIENT-MASTER-KEY (the last
// record in clear) names the one chosen.
func TestSSLv2CipherChoice(t *testing.T) {
	cert := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	clientHello := cat([]byte{0x80, 0}, []byte{1, 0, 2}, u16(6), u16(0), u16(16),
		[]byte{0x07, 0x00, 0xc0, 0x01, 0x00, 0x80}, make([]byte, 16))
	clientHello[1] = byte(len(clientHello) - 2)
	serverHello := cat([]byte{0x80, 0}, []byte{4, 0, 1}, u16(2), u16(len(cert)), u16(6), u16(16), cert,
		[]byte{0x07, 0x00, 0xc0, 0x01, 0x00, 0x80}, make([]byte, 16))
	serverHello[1] = byte(len(serverHello) - 2)
	masterKey := cat([]byte{0x80, 0}, []byte{2, 0x01, 0x00, 0x80}, u16(0), u16(16), u16(0), make([]byte, 16))
	masterKey[1] = byte(len(masterKey) - 2)
	encrypted := []byte{0x80, 0x05, 0x02, 0xde, 0xad, 0xbe, 0xef} // looks like another master key: must be ignored

	for _, tt := range []struct {
		name   string
		client [][]byte
		want   uint32
	}{
		{"master key names the cipher", [][]byte{masterKey, encrypted}, 0x010080},
		{"no master key seen", nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			st := New(rec.context(observe.Flow{}))
			now := time.Unix(1600000000, 0)
			st.Data(dissect.ClientToServer, clientHello, now)
			st.Data(dissect.ServerToClient, serverHello, now)
			for _, b := range tt.client {
				st.Data(dissect.ClientToServer, b, now)
			}
			st.End(now)
			if len(rec.sessions) != 1 {
				t.Fatalf("%d sessions", len(rec.sessions))
			}
			s := rec.sessions[0]
			if s.Version != 0x0002 || s.SSLv2Cipher != tt.want || s.Suite != 0 {
				t.Errorf("version %#x SSLv2 cipher %#06x suite %#x; want SSLv2, %#06x", s.Version, s.SSLv2Cipher, s.Suite, tt.want)
			}
		})
	}
}
