package tlswire

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// corpusDir finds ../shared/corpus beside the repository root, or skips the test (fails
// it under CI, where the corpus must be present).
func corpusDir(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(d, "..", "shared", "corpus")
			if _, err := os.Stat(filepath.Join(dir, "expected.json")); err == nil {
				return dir
			}
			break
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("corpus missing: ../shared/corpus/expected.json beside the repository root")
	}
	tb.Skip("corpus missing: ../shared/corpus/expected.json beside the repository root")
	return ""
}

// event is one in-order chunk of a flow's payload, in capture order across directions.
type event struct {
	dir  dissect.Direction
	data []byte
	t    time.Time
}

// tcpFlow is a test-only, naive reassembly of one TCP connection: enough for small
// captures (retransmissions dropped, out-of-order segments held until they fit).
type tcpFlow struct {
	a, b      netip.AddrPort // a sent the first packet seen
	synFrom   int            // 0 none, 1 a, 2 b
	next      [2]uint32
	init      [2]bool
	pending   [2]map[uint32][]byte
	events    []event // dir here is 0 for a->b, 1 for b->a; fixed up by flow()
	client    netip.AddrPort
	server    netip.AddrPort
	clientIsA bool
}

func (f *tcpFlow) add(side int, seq uint32, syn bool, payload []byte, t time.Time) {
	if syn {
		f.next[side], f.init[side] = seq+1, true
		if f.synFrom == 0 {
			f.synFrom = side + 1
		}
		return
	}
	if len(payload) == 0 {
		return
	}
	if !f.init[side] {
		f.next[side], f.init[side] = seq, true
	}
	if f.pending[side] == nil {
		f.pending[side] = map[uint32][]byte{}
	}
	f.pending[side][seq] = slices.Clone(payload)
	for progress := true; progress; {
		progress = false
		for s, p := range f.pending[side] {
			off := int32(f.next[side] - s)
			switch {
			case off < 0:
				continue
			case int(off) >= len(p):
				delete(f.pending[side], s)
			default:
				f.events = append(f.events, event{dir: dissect.Direction(side), data: p[off:], t: t})
				f.next[side] = s + uint32(len(p))
				delete(f.pending[side], s)
			}
			progress = true
		}
	}
}

// readFlows extracts the TCP flows of a pcap or pcapng file, in first-packet order.
func readFlows(tb testing.TB, path string) []*tcpFlow {
	tb.Helper()
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	magic, err := br.Peek(4)
	if err != nil {
		tb.Fatal(err)
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	var link layers.LinkType
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			tb.Fatal(err)
		}
		src, link = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			tb.Fatal(err)
		}
		src, link = r, r.LinkType()
	}
	var first gopacket.Decoder
	switch link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		first = layers.LayerTypeLoopback
	case layers.LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		first = layers.LayerTypeIPv6
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeRaw, 12:
		first = gopacket.DecodeFunc(func(b []byte, p gopacket.PacketBuilder) error {
			if len(b) > 0 && b[0]>>4 == 6 {
				return layers.LayerTypeIPv6.Decode(b, p)
			}
			return layers.LayerTypeIPv4.Decode(b, p)
		})
	default:
		tb.Fatalf("%s: link type %d not handled by the test helper", path, link)
	}
	flows := map[string]*tcpFlow{}
	var order []*tcpFlow
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			continue
		}
		var src, dst netip.Addr
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		from := netip.AddrPortFrom(src, uint16(tcp.SrcPort))
		to := netip.AddrPortFrom(dst, uint16(tcp.DstPort))
		k1, k2 := from.String(), to.String()
		if k2 < k1 {
			k1, k2 = k2, k1
		}
		key := k1 + "|" + k2
		f := flows[key]
		if f == nil {
			f = &tcpFlow{a: from, b: to}
			flows[key] = f
			order = append(order, f)
		}
		side := 0
		if from != f.a {
			side = 1
		}
		f.add(side, tcp.Seq, tcp.SYN && !tcp.ACK || tcp.SYN && tcp.ACK, tcp.Payload, ci.Timestamp)
		if tcp.SYN && !tcp.ACK && f.synFrom == 0 {
			f.synFrom = side + 1
		}
	}
	for _, f := range order {
		f.orient()
	}
	return order
}

// orient decides which side is the client, as the engine would: the SYN sender, else
// the side whose first bytes Detect says come from a client, else the higher port.
func (f *tcpFlow) orient() {
	f.clientIsA = f.a.Port() > f.b.Port()
	if f.synFrom != 0 {
		f.clientIsA = f.synFrom == 1
	} else {
		for _, e := range f.events {
			if m := Detect(e.data); m.Verdict == dissect.Yes {
				f.clientIsA = (e.dir == 0) != m.FromServer
				break
			}
		}
	}
	f.client, f.server = f.a, f.b
	if !f.clientIsA {
		f.client, f.server = f.b, f.a
		for i := range f.events {
			f.events[i].dir ^= 1
		}
	}
}

// isTLS reports whether Detect claims the flow's first bytes.
func (f *tcpFlow) isTLS() bool {
	for _, e := range f.events {
		return Detect(e.data).Verdict == dissect.Yes
	}
	return false
}

// recorder is an observe.Sink that keeps what the dissector emitted, chains included.
type recorder struct {
	sessions []observe.TLSSession
	server   [][][]byte
	client   [][][]byte
	counters map[string]uint64
}

func (r *recorder) AddTLS(s observe.TLSSession, serverChain, clientChain [][]byte) {
	r.sessions = append(r.sessions, s)
	r.server = append(r.server, cloneChain(serverChain))
	r.client = append(r.client, cloneChain(clientChain))
}
func (r *recorder) AddHTTP(observe.HTTPRequest)           {}
func (r *recorder) AddCredential(observe.Credential)      {}
func (r *recorder) AddMQTT(observe.MQTTConnect)           {}
func (r *recorder) AddHL7(observe.HL7Message)             {}
func (r *recorder) AddDICOM(observe.DICOMAssociation)     {}
func (r *recorder) AddService(observe.Service)            {}
func (r *recorder) AddHost(netip.Addr, string, time.Time) {}
func (r *recorder) AddName(observe.HostName)              {}
func (r *recorder) AddDHCP(observe.DHCPLease)             {}
func (r *recorder) AddTransfer(observe.FileTransfer)      {}
func (r *recorder) AddProbe(observe.ProbeEndpoint)        {}
func (r *recorder) AddProbeHost(observe.ProbeHost)        {}
func (r *recorder) AddARP(observe.ARPClaim)               {}
func (r *recorder) AddDHCPReply(observe.DHCPReply)        {}
func (r *recorder) AddGreeting(observe.StartTLSGreeting)  {}
func (r *recorder) count(name string, n uint64)           { r.counters[name] += n }
func newRecorder() *recorder                              { return &recorder{counters: map[string]uint64{}} }
func (r *recorder) context(flow observe.Flow) *dissect.Context {
	return &dissect.Context{Flow: flow, Sink: r, Source: observe.SourcePassive, Count: r.count}
}

func cloneChain(c [][]byte) [][]byte {
	var out [][]byte
	for _, d := range c {
		out = append(out, slices.Clone(d))
	}
	return out
}

func hashes(chain [][]byte) []string {
	out := []string{}
	for _, d := range chain {
		sum := sha256.Sum256(d)
		out = append(out, hex.EncodeToString(sum[:]))
	}
	return out
}

// run feeds a flow's events to a new stream and ends it.
func (r *recorder) run(f *tcpFlow) {
	st := New(r.context(observe.Flow{Client: f.client, Server: f.server}))
	var last time.Time
	for _, e := range f.events {
		if st.Done() {
			break
		}
		st.Data(e.dir, e.data, e.t)
		last = e.t
	}
	st.End(last)
}

type expectedTLS struct {
	Server      string   `json:"server"`
	Version     string   `json:"version"`
	CipherName  string   `json:"cipher_name"`
	SNI         string   `json:"sni"`
	ServerCerts []string `json:"server_certs"`
	CertRequest bool     `json:"cert_request"`
	ClientCerts []string `json:"client_certs"`
	DHBits      int      `json:"dh_bits"`
}

func (e expectedTLS) key() string {
	return strings.Join([]string{e.Server, e.Version, e.CipherName, "sni=" + e.SNI,
		"server=" + strings.Join(e.ServerCerts, ","), "certreq=" + strconv.FormatBool(e.CertRequest),
		"client=" + strings.Join(e.ClientCerts, ","), "dh=" + strconv.Itoa(e.DHBits)}, " ")
}

func loadExpected(tb testing.TB, dir string) map[string][]expectedTLS {
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var files []struct {
		File string        `json:"file"`
		TLS  []expectedTLS `json:"tls"`
	}
	if err := json.Unmarshal(raw, &files); err != nil {
		tb.Fatal(err)
	}
	out := map[string][]expectedTLS{}
	for _, f := range files {
		out[f.File] = f.TLS
	}
	return out
}

func serverString(ap netip.AddrPort) string {
	// expected.json writes IPv6 servers without brackets ("::1:8081").
	return ap.Addr().String() + ":" + strconv.Itoa(int(ap.Port()))
}

// TestCorpus runs the dissector on every TCP flow of every corpus capture and compares the
// sessions it reports with what tshark saw.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	expected := loadExpected(t, dir)
	if len(expected) == 0 {
		t.Fatal("expected.json lists no captures")
	}
	for file, want := range expected {
		t.Run(file, func(t *testing.T) {
			rec := newRecorder()
			for _, f := range readFlows(t, filepath.Join(dir, "pcap", file)) {
				if f.isTLS() {
					rec.run(f)
				}
			}
			var got []string
			for i, s := range rec.sessions {
				if !s.SawServerHello {
					t.Logf("session without ServerHello: %s SNI %q", s.Flow, s.SNI)
					continue
				}
				got = append(got, expectedTLS{
					Server: serverString(s.Flow.Server), Version: observe.VersionName(s.Version),
					CipherName: observe.SuiteName(s.Suite), SNI: s.SNI, ServerCerts: hashes(rec.server[i]),
					CertRequest: s.CertRequest, ClientCerts: hashes(rec.client[i]), DHBits: s.DHBits,
				}.key())
			}
			var exp []string
			for _, e := range want {
				exp = append(exp, e.key())
			}
			slices.Sort(got)
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("sessions differ from tshark's\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(exp, "\n      "))
			}
			for name, n := range rec.counters {
				t.Logf("counter %s = %d", name, n)
			}
			for _, s := range rec.sessions {
				t.Logf("%s %s %s resumed=%v encrypted=%v ja3=%s ja4=%s alpn=%v curve=%s alerts=%v cas=%d",
					s.Flow, observe.VersionName(s.Version), observe.SuiteName(s.Suite), s.Resumed, s.CertsEncrypted,
					s.JA3, s.JA4, s.ALPN, observe.GroupName(s.ECDHCurve), s.Alerts, len(s.CertRequestCAs))
			}
		})
	}
}

// corpusPayloads returns the in-order client and server bytes of every TLS flow in the
// corpus, for fuzz seeds and benchmarks; nil when the corpus is absent.
func corpusPayloads(tb testing.TB) [][2][]byte {
	dir := corpusDir(tb)
	entries, err := os.ReadDir(filepath.Join(dir, "pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][2][]byte
	for _, e := range entries {
		for _, f := range readFlows(tb, filepath.Join(dir, "pcap", e.Name())) {
			if !f.isTLS() {
				continue
			}
			var p [2][]byte
			for _, ev := range f.events {
				p[ev.dir] = append(p[ev.dir], ev.data...)
			}
			out = append(out, p)
		}
	}
	return out
}
