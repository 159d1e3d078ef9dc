package hl7wire

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/observe"
)

var (
	flow = observe.Flow{
		Client: netip.MustParseAddrPort("10.1.1.1:50000"),
		Server: netip.MustParseAddrPort("10.2.2.2:6661"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

// Patient data planted in the test messages: none of it may be emitted.
var patient = []string{"DOE", "JANE", "HOLLOWAY", "555-0100", "19700101", "MRN12345", "Penicillin"}

const (
	adt = "\x0bMSH|^~\\&|HIS^1.2.3^ISO|HOSP|LAB||20240501||ADT^A01^ADT_A01|123|P|2.5.1\r" +
		"EVN|A01|20240501\rPID|1||MRN12345^^^HOSP^MR||DOE^JANE||19700101|F|||1 HOLLOWAY RD||555-0100\r" +
		"NK1|1|DOE^JOHN|SPO\rPV1|1|I|ICU^1^1\rAL1|1||^Penicillin\r\x1c\r"
	ack = "\x0bMSH|^~\\&|LAB|HOSP|HIS|HOSP|20240501||ACK^A01|9|P|2.5.1\rMSA|AA|123\r\x1c\r"
)

// summary renders the emitted messages compactly for comparison.
func summary(h *corpustest.Harness) string {
	var out []string
	for _, m := range h.Sink.HL7 {
		line := fmt.Sprintf("%s/%s>%s/%s %s^%s v%s p%d ack=%v",
			m.SendingApp, m.SendingFacility, m.ReceivingApp, m.ReceivingFacility, m.MessageType, m.TriggerEvent,
			m.Version, m.PatientSegments, m.IsAck)
		if m.AckCode != "" {
			line += " " + m.AckCode
		}
		if len(m.Devices) > 0 {
			line += " dev=" + strings.Join(m.Devices, ",")
		}
		out = append(out, line)
	}
	return strings.Join(out, "; ")
}

func run(client, server [][]byte) *corpustest.Harness {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	for _, p := range client {
		d.Data(dissect.ClientToServer, p, t0)
	}
	for _, p := range server {
		d.Data(dissect.ServerToClient, p, t0)
	}
	if d.Done() {
		panic("HL7 must never be done")
	}
	d.End(t0)
	return h
}

var hl7Cases = []struct {
	name     string
	client   string
	server   string
	want     string
	counters map[string]uint64
}{
	{
		name:   "ADT and its ACK",
		client: adt, server: ack,
		want: "HIS/HOSP>LAB/ ADT^A01 v2.5.1 p3 ack=false; LAB/HOSP>HIS/HOSP ACK^A01 v2.5.1 p0 ack=true AA",
	},
	{
		name:   "several messages in one stream, garbage around",
		client: "junk\r\n" + adt + "\x00\x01" + adt + adt,
		want:   "HIS/HOSP>LAB/ ADT^A01 v2.5.1 p3 ack=false; HIS/HOSP>LAB/ ADT^A01 v2.5.1 p3 ack=false; HIS/HOSP>LAB/ ADT^A01 v2.5.1 p3 ack=false",
	},
	{
		name: "batch with two messages",
		client: "\x0bFHS|^~\\&|BATCHER\rBHS|^~\\&|BATCHER\r" +
			"MSH|^~\\&|LIS|LAB|EMR|HOSP|2024||ORU^R01|1|P|2.3\rPID|1||MRN12345\rOBX|1|NM|WBC||7.0\r" +
			"MSH|^~\\&|LIS|LAB|EMR|HOSP|2024||ORU^R01|2|P|2.3\rPID|1||MRN12345\rPV1|1|O\r" +
			"BTS|2\rFTS|1\r\x1c\r",
		want: "LIS/LAB>EMR/HOSP ORU^R01 v2.3 p1 ack=false; LIS/LAB>EMR/HOSP ORU^R01 v2.3 p2 ack=false",
	},
	{
		name:   "unusual separators, universal ID fallback, repetitions, LF terminators",
		client: "\x0bMSH#@~\\&#@1.2.840.1@ISO#FAC~OTHER#RCV@x#RF#2024##ORM@O01#1#P#2.4@USA\nPID#1\n\x1c\r",
		want:   "1.2.840.1/FAC>RCV/RF ORM^O01 v2.4 p1 ack=false",
	},
	{
		name:   "universal ID fallback with the standard component separator",
		client: "\x0bMSH|^~\\&|^2.16.840.1.113883^ISO|F|R|RF|2024||ORU^R01|1|P|2.5\r\x1c\r",
		want:   "2.16.840.1.113883/F>R/RF ORU^R01 v2.5 p0 ack=false",
	},
	{
		name:     "a frame that is not HL7 is skipped",
		client:   "\x0bHELLO WORLD\r\x1c\r\x0b\x00\x00\x00\x1c\r" + ack,
		want:     "LAB/HOSP>HIS/HOSP ACK^A01 v2.5.1 p0 ack=true AA",
		counters: map[string]uint64{"hl7_bad_frame": 2},
	},
	{
		name:     "a start block inside a frame ends the message",
		client:   "\x0bMSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.3\rPID|1\r" + adt,
		want:     "A/B>C/D ADT^A08 v2.3 p1 ack=false; HIS/HOSP>LAB/ ADT^A01 v2.5.1 p3 ack=false",
		counters: map[string]uint64{"hl7_unterminated": 1},
	},
	{
		name:     "a frame cut short is emitted at End",
		client:   "\x0bMSH|^~\\&|A|B|C|D|2024||ADT^A08|1|P|2.3\rPID|1",
		want:     "A/B>C/D ADT^A08 v2.3 p1 ack=false",
		counters: map[string]uint64{"hl7_unterminated": 1},
	},
	{
		name:   "a frame that ends inside its MSH",
		client: "\x0bMSH|^~\\&|ONLY\x1c\r",
		want:   "ONLY/>/ ^ v p0 ack=false",
	},
	{
		name:     "MSH too short or with a broken separator",
		client:   "\x0bMSH|\r\x1c\r\x0bMSH^^~\\&|A\r\x1c\r",
		counters: map[string]uint64{"hl7_bad_msh": 2},
	},
	{
		name: "batch: each MSH a message, with its own devices and acknowledgement codes",
		client: "\x0bFHS|^~\\&|GW\rBHS|^~\\&|GW\r" +
			"MSH|^~\\&|MON|ICU|EMR|H|2024||ORU^R01|1|P|2.7\rPID|1||MRN12345\r" +
			"OBX|1|NM|HR||72|/min|||||F|||||||MON01^PHILIPS^00:09:FB:AA:BB:CC^EUI-64~PUMP7^BBRAUN|\r" +
			"OBX|2|NM|SPO2||98|%|||||F|||||||MON01^PHILIPS^00:09:FB:AA:BB:CC^EUI-64\r" +
			"MSH|^~\\&|EMR|H|MON|ICU|2024||ACK^R01|2|P|2.7\rMSA|AE|1\r" +
			"MSH|^~\\&|PUMPGW|ICU|EMR|H|2024||ORU^R42|3|P|2.8\r" +
			"PRT|1|AD||||||||||||||(01)00643169007222(21)SN1234^^2.16.840.1.113883.3.3719^ISO\r" +
			"BTS|3\rFTS|1\r\x1c\r",
		want: "MON/ICU>EMR/H ORU^R01 v2.7 p1 ack=false dev=MON01^PHILIPS^00:09:FB:AA:BB:CC^EUI-64,PUMP7^BBRAUN; " +
			"EMR/H>MON/ICU ACK^R01 v2.7 p0 ack=true AE; " +
			"PUMPGW/ICU>EMR/H ORU^R42 v2.8 p0 ack=false dev=(01)00643169007222(21)SN1234^^2.16.840.1.113883.3.3719^ISO",
	},
	{
		name: "device fields absent, empty or short; an MSA without a known code",
		client: "\x0bMSH|^~\\&|A|B|C|D|2024||ORU^R01|1|P|2.5\rOBX|1|NM|HR||72\rOBX|2|NM|HR||72||||||||||||| ^ ~\r" +
			"PRT|1|AD|||||||||||||||\rPRT\rOBX\r\x1c\r" +
			"\x0bMSH|^~\\&|C|D|A|B|2024||ACK|2|P|2.5\rMSA|XX|1\r\x1c\r" +
			"\x0bMSH|^~\\&|C|D|A|B|2024||ACK|3|P|2.5\rMSA|CR^x~AA\r\x1c\r",
		want:     "A/B>C/D ORU^R01 v2.5 p0 ack=false; C/D>A/B ACK^ v2.5 p0 ack=true; C/D>A/B ACK^ v2.5 p0 ack=true CR",
		counters: map[string]uint64{"hl7_bad_msa": 1},
	},
	{
		name:   "a frame that ends inside a device field keeps what arrived",
		client: "\x0bMSH|^~\\&|A|B|C|D|2024||ORU^R01|1|P|2.5\rOBX|1|NM|HR||72|||||||||||||DEV9\x1c\r",
		want:   "A/B>C/D ORU^R01 v2.5 p0 ack=false dev=DEV9",
	},
	{
		name:   "control bytes in a header field are replaced",
		client: "\x0bMSH|^~\\&|AP\x01P|F\x7f|R|RF|2024||ADT^A01|1|P|2.3\r\x1c\r",
		want:   `AP\x01P/F\x7f>R/RF ADT^A01 v2.3 p0 ack=false`,
	},
}

func TestHL7(t *testing.T) {
	for _, tc := range hl7Cases {
		t.Run(tc.name, func(t *testing.T) {
			whole := run([][]byte{[]byte(tc.client)}, [][]byte{[]byte(tc.server)})
			if got := summary(whole); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			for k, v := range tc.counters {
				if whole.Counters[k] != v {
					t.Errorf("counter %s = %d, want %d (%v)", k, whole.Counters[k], v, whole.Counters)
				}
			}
			whole.Sink.NoSecret(t, patient...)
			for _, m := range whole.Sink.HL7 {
				if m.Flow != flow || !m.FirstSeen.Equal(t0) || m.Count != 1 {
					t.Errorf("message = %+v", m)
				}
			}
			if len(whole.Sink.Credentials)+len(whole.Sink.HTTP)+whole.Sink.Other != 0 {
				t.Errorf("unrelated observations: %s", whole.Sink.Dump())
			}
			want := whole.Sink.Dump()
			for i, parts := range corpustest.Splits([]byte(tc.client)) {
				if got := run(parts, [][]byte{[]byte(tc.server)}).Sink.Dump(); got != want {
					t.Fatalf("client split %d:\n%s\nwant\n%s", i, got, want)
				}
			}
			for i, parts := range corpustest.Splits([]byte(tc.server)) {
				if got := run([][]byte{[]byte(tc.client)}, parts).Sink.Dump(); got != want {
					t.Fatalf("server split %d:\n%s\nwant\n%s", i, got, want)
				}
			}
		})
	}
}

func TestOversized(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, []byte("\x0bMSH|^~\\&|PACS|R|EMR|H|2024||ORU^R01|1|P|2.5\rPID|1\rOBX|1|ED|PDF||"), t0)
	chunk := bytes.Repeat([]byte("QUJDREVGR0g="), 64<<10/12)
	fed := 0
	allocs := testing.AllocsPerRun(10, func() { d.Data(dissect.ClientToServer, chunk, t0) })
	fed += 11 * len(chunk)
	if allocs != 0 {
		t.Errorf("streaming a large segment allocates %v per call", allocs)
	}
	for fed <= MaxMessage {
		d.Data(dissect.ClientToServer, chunk, t0)
		fed += len(chunk)
	}
	d.Data(dissect.ClientToServer, []byte("rest of the lost frame\r\x1c\r"+ack), t0)
	d.End(t0)
	if got := summary(h); got != "PACS/R>EMR/H ORU^R01 v2.5 p1 ack=false; LAB/HOSP>HIS/HOSP ACK^A01 v2.5.1 p0 ack=true AA" {
		t.Fatalf("got %s", got)
	}
	if h.Counters["hl7_oversized"] != 1 {
		t.Errorf("counters = %v", h.Counters)
	}
}

func TestGap(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Gap(dissect.ClientToServer, 100) // before anything: harmless
	d.Data(dissect.ClientToServer, []byte(adt[:120]), t0)
	d.Gap(dissect.ClientToServer, 40)
	d.Data(dissect.ClientToServer, []byte("PV1|1|I\rPID|2\r\x1c\r"+ack), t0)
	d.End(t0)
	if got := summary(h); got != "HIS/HOSP>LAB/ ADT^A01 v2.5.1 p1 ack=false; LAB/HOSP>HIS/HOSP ACK^A01 v2.5.1 p0 ack=true AA" {
		t.Fatalf("got %s", got)
	}
	if h.Counters["hl7_gap"] != 1 {
		t.Errorf("counters = %v", h.Counters)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want dissect.Verdict
	}{
		{adt, dissect.Yes},
		{"\x0bFHS|", dissect.Yes},
		{"\x0bBHS", dissect.Yes},
		{"\x0bMS", dissect.NeedMore},
		{"\x0b", dissect.NeedMore},
		{"", dissect.NeedMore},
		{"MSH|^~\\&|", dissect.No},
		{"\x0bPID|", dissect.No},
		{"\x0bmsh|", dissect.No},
		{"GET / HTTP/1.1", dissect.No},
	} {
		if m := Detect([]byte(tc.in)); m.Verdict != tc.want || m.FromServer {
			t.Errorf("Detect(%q) = %+v, want %v", tc.in, m, tc.want)
		}
	}
	if Dissector.Name != "hl7-mllp" {
		t.Fatal("Dissector not wired")
	}
}

func TestCorpus(t *testing.T) {
	for _, file := range []string{"tapirx-hl7-adt.pcap", "tapirx-hl7-oru.pcap"} {
		t.Run(file, func(t *testing.T) {
			want := corpustest.Expected(t, file)
			if len(want.HL7) == 0 {
				t.Fatal("oracle lists no HL7")
			}
			set := observe.NewSet()
			for _, st := range corpustest.TCPStreams(t, file) {
				if Detect(st.ClientBytes).Verdict != dissect.Yes {
					continue
				}
				h := corpustest.NewHarness(st.Flow())
				corpustest.Replay(New(h.Ctx), st)
				// The synthetic patients of the corpus must not surface.
				h.Sink.NoSecret(t, "MOUSE", "MICKEY", "MINNIE", "135769", "123 Main", "19281118", "Penicillin")
				for _, m := range h.Sink.HL7 {
					set.AddHL7(m)
				}
				if len(h.Counters) != 0 {
					t.Errorf("counters = %v", h.Counters)
				}
			}
			for _, w := range want.HL7 {
				found := false
				for _, m := range set.HL7 {
					server := m.Flow.Server.Addr().String() + ":" + fmt.Sprint(m.Flow.Server.Port())
					if m.MessageType == w.Type && m.TriggerEvent == w.Event && server == w.Server && !m.IsAck && m.PatientSegments > 0 {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s^%s to %s in %+v", w.Type, w.Event, w.Server, set.HL7)
				}
			}
			acks := 0
			for _, m := range set.HL7 {
				if m.IsAck {
					acks++
				}
			}
			if acks != 1 {
				t.Errorf("acks = %d", acks)
			}
		})
	}
}

// FuzzStream feeds arbitrary bytes to both directions, split and with an optional gap.
func FuzzStream(f *testing.F) {
	for _, tc := range hl7Cases {
		f.Add([]byte(tc.client), []byte(tc.server), uint16(5), uint16(0))
	}
	if corpustest.Present() {
		for _, file := range []string{"tapirx-hl7-adt.pcap", "tapirx-hl7-oru.pcap"} {
			for _, st := range corpustest.TCPStreams(f, file) {
				f.Add(st.ClientBytes, st.ServerBytes, uint16(300), uint16(7))
			}
		}
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		for _, x := range []struct {
			dir dissect.Direction
			b   []byte
		}{{dissect.ClientToServer, client}, {dissect.ServerToClient, server}} {
			k := int(cut) % (len(x.b) + 1)
			d.Data(x.dir, x.b[:k], t0)
			if gap != 0 {
				d.Gap(x.dir, int(gap))
			}
			d.Data(x.dir, x.b[k:], t0)
		}
		d.End(t0)
		msh := bytes.Count(client, []byte("MSH")) + bytes.Count(server, []byte("MSH"))
		if len(h.Sink.HL7) > msh {
			t.Fatalf("%d messages from %d MSH", len(h.Sink.HL7), msh)
		}
		for _, m := range h.Sink.HL7 {
			for _, s := range []string{m.SendingApp, m.SendingFacility, m.ReceivingApp, m.ReceivingFacility, m.MessageType, m.TriggerEvent, m.Version} {
				if len(s) > maxField {
					t.Fatalf("unbounded field in %+v", m)
				}
			}
			if len(m.Devices) > observe.MaxHL7Devices || len(m.AckCode) > 2 {
				t.Fatalf("unbounded devices or code in %+v", m)
			}
			for _, d := range m.Devices {
				if d == "" || len(d) > maxField {
					t.Fatalf("bad device in %+v", m)
				}
			}
		}
	})
}

// BenchmarkStream measures parsing a flow of ORU messages fed in 1460-byte segments.
func BenchmarkStream(b *testing.B) {
	oru := "\x0bMSH|^~\\&|LIS|LAB|EMR|HOSP|20240501101010||ORU^R01^ORU_R01|MSG0001|P|2.5.1\r" +
		"PID|1||MRN12345^^^HOSP^MR||DOE^JANE||19700101|F\rPV1|1|I|ICU^1^1\r" +
		"ORC|RE||12376\rOBR|1||12376|cbc^CBC|R||20240501\r" +
		strings.Repeat("OBX|1|NM|wbc^Wbc^Local^6690-2^Wbc^LN||7.0|/nl|3.8-11.0||||F|||20240501|lab\r", 10) + "\x1c\r"
	data := []byte(strings.Repeat(oru, 100))
	h := corpustest.NewHarness(flow)
	h.Ctx.Sink = corpustest.Discard{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d := New(h.Ctx)
		for off := 0; off < len(data); off += 1460 {
			d.Data(dissect.ClientToServer, data[off:min(off+1460, len(data))], t0)
		}
		d.End(t0)
	}
}
