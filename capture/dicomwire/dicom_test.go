package dicomwire

import (
	"encoding/binary"
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
		Server: netip.MustParseAddrPort("10.2.2.2:104"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

const (
	ctImage  = "1.2.840.10008.5.1.4.1.1.2"
	verify   = "1.2.840.10008.1.1"
	implicit = "1.2.840.10008.1.2"
)

func item(typ byte, v []byte) []byte {
	out := []byte{typ, 0, byte(len(v) >> 8), byte(len(v))}
	return append(out, v...)
}

func pdu(typ byte, body []byte) []byte {
	out := []byte{typ, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[2:], uint32(len(body)))
	return append(out, body...)
}

func pad16(s string) []byte { return []byte(fmt.Sprintf("%-16s", s)) }

// associate builds an A-ASSOCIATE-RQ (typ 1) or -AC (typ 2).
func associate(typ byte, called, calling string, syntaxes []string, impl, version string, extra ...[]byte) []byte {
	body := []byte{0, 1, 0, 0}
	body = append(body, pad16(called)...)
	body = append(body, pad16(calling)...)
	body = append(body, make([]byte, 32)...)
	body = append(body, item(0x10, []byte("1.2.840.10008.3.1.1.1"))...)
	for i, as := range syntaxes {
		pc := []byte{byte(2*i + 1), 0, 0, 0}
		if typ == 1 {
			pc = append(pc, item(0x30, []byte(as))...)
		}
		pc = append(pc, item(0x40, []byte(implicit+"\x00"))...)
		pcType := byte(0x20)
		if typ == 2 {
			pcType = 0x21
		}
		body = append(body, item(pcType, pc)...)
	}
	ui := item(0x51, []byte{0, 0, 0x40, 0})
	ui = append(ui, item(0x52, []byte(impl))...)
	ui = append(ui, item(0x55, []byte(version))...)
	for _, x := range extra {
		ui = append(ui, x...)
	}
	body = append(body, item(0x50, ui)...)
	return pdu(typ, body)
}

var (
	rq     = associate(1, "PACS", "MODALITY1", []string{ctImage, verify, ctImage}, "1.2.826.0.1.3680043.2.1", "DCMTK_364")
	ac     = associate(2, "PACS", "MODALITY1", []string{""}, "9.9.9", "ACCEPTOR")
	rj     = pdu(pduAssociateRJ, []byte{0, 1, 1, 7})
	abort  = pdu(pduAbort, []byte{0, 0, 0, 0})
	pdata  = pdu(pduPData, append([]byte{0, 0, 0, 10, 1, 3}, "DOE^JANE"...))
	relRQ  = pdu(pduReleaseRQ, []byte{0, 0, 0, 0})
	relRP  = pdu(pduReleaseRP, []byte{0, 0, 0, 0})
	wantRQ = "MODALITY1>PACS impl=1.2.826.0.1.3680043.2.1/DCMTK_364 as=" + ctImage + "," + verify
)

// role builds an SCU/SCP role selection sub-item.
func role(uid string, scu, scp byte) []byte {
	v := []byte{0, byte(len(uid))}
	return item(0x54, append(append(v, uid...), scu, scp))
}

// pdv builds a PDV item: context 1, the control byte, the fragment.
func pdv(ctl byte, frag []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(frag)+2))
	return append(append(out, 1, ctl), frag...)
}

// element builds an explicit (vr != "") or implicit VR little endian element.
func element(group, elem uint16, vr, value string) []byte {
	out := binary.LittleEndian.AppendUint16(nil, group)
	out = binary.LittleEndian.AppendUint16(out, elem)
	if vr != "" {
		out = append(out, vr...)
		out = binary.LittleEndian.AppendUint16(out, uint16(len(value)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(value)))
	}
	return append(out, value...)
}

var (
	roleRQ = associate(1, "PACS", "MODALITY1", []string{ctImage, verify}, "1.2.826.0.1.3680043.2.1", "DCMTK_364",
		role(ctImage, 1, 1), role(verify, 0, 1), role("1.2.3", 0, 0), role(ctImage, 1, 1))
	acMixed = func() []byte {
		b := associate(2, "PACS", "MODALITY1", []string{"", "", ""}, "9.9.9", "ACCEPTOR")
		// The result bytes of the second and third presentation contexts: rejected.
		n := 0
		for i := 6 + minAssociate; i+6 < len(b); {
			if b[i] == 0x21 {
				if n > 0 {
					b[i+6] = byte(2 + n)
				}
				n++
			}
			i += 4 + int(binary.BigEndian.Uint16(b[i+2:]))
		}
		return b
	}()
	// explicitSet holds three patient attributes (name, ID, birth date) and others that do
	// not count: an empty ID, the sex, and pixel data whose bytes look like a name.
	explicitSet = cat(element(8, 0x16, "UI", ctImage+"\x00"), element(0x10, 0x10, "PN", "DOE^JANE"),
		element(0x10, 0x20, "LO", "MRN12345"), element(0x10, 0x30, "DA", "19700101"), element(0x10, 0x40, "CS", "F "),
		element(0x10, 0x20, "LO", ""), element(0x7fe0, 0x10, "OW", string(element(0x10, 0x10, "PN", "DOE^JANE"))))
	// implicitSet holds one patient name and an empty birth date.
	implicitSet = cat(element(0x10, 0x10, "", "DOE^JANE"), element(0x10, 0x30, "", ""))
	command     = cat(element(0, 0x100, "", "\x01\x00"), element(0x10, 0x10, "", "DOE^JANE")) // commands are not scanned
	// storeData splits the explicit set inside its patient name tag, across PDVs and PDUs.
	storeData = cat(pdu(pduPData, cat(pdv(3, command), pdv(0, explicitSet[:len(element(8, 0x16, "UI", ctImage+"\x00"))+2]))),
		pdu(pduPData, pdv(2, explicitSet[len(element(8, 0x16, "UI", ctImage+"\x00"))+2:])),
		pdu(pduPData, pdv(2, implicitSet)))
)

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func summary(h *corpustest.Harness) string {
	var out []string
	for _, a := range h.Sink.DICOM {
		line := fmt.Sprintf("%s>%s impl=%s/%s as=%s result=%s", a.CallingAE, a.CalledAE, a.ImplClassUID,
			a.ImplVersion, strings.Join(a.AbstractSyntaxes, ","), a.Result)
		if a.AcceptedContexts+a.RejectedContexts > 0 {
			line += fmt.Sprintf(" ctx=%d/%d", a.AcceptedContexts, a.RejectedContexts)
		}
		if len(a.Roles) > 0 {
			line += " roles=" + strings.Join(a.Roles, ",")
		}
		if a.PDataPDUs > 0 {
			line += fmt.Sprintf(" pdata=%d/%d", a.PDataPDUs, a.PDataBytes)
		}
		if a.PatientAttributes > 0 {
			line += fmt.Sprintf(" patient=%d", a.PatientAttributes)
		}
		out = append(out, line)
	}
	return strings.Join(out, "; ")
}

func run(client, server [][]byte) (*corpustest.Harness, bool) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	for _, p := range client {
		d.Data(dissect.ClientToServer, p, t0)
	}
	for _, p := range server {
		d.Data(dissect.ServerToClient, p, t0)
	}
	done := d.Done()
	d.End(t0)
	return h, done
}

var dicomCases = []struct {
	name     string
	client   []byte
	server   []byte
	want     string
	done     bool
	counters map[string]uint64
}{
	{
		name: "accepted", client: cat(rq, pdata, relRQ), server: cat(ac, pdata, relRP),
		want: wantRQ + " result=released ctx=1/0 pdata=2/28", done: true, counters: map[string]uint64{"dicom_pdata_pdus": 2},
	},
	{name: "rejected", client: rq, server: rj, want: wantRQ + " result=rejected", done: true},
	{
		name:     "unknown application context",
		client:   []byte(strings.Replace(string(rq), "1.2.840.10008.3.1.1.1", "1.2.840.10008.3.1.1.9", 1)),
		server:   rj,
		want:     wantRQ + " result=rejected",
		done:     true,
		counters: map[string]uint64{"dicom_unknown_app_context": 1},
	},
	{name: "aborted by the server", client: rq, server: abort, want: wantRQ + " result=aborted", done: true},
	{name: "aborted by the client", client: cat(rq, abort), want: wantRQ + " result=aborted", done: true},
	{name: "no answer", client: cat(rq, pdata, pdata), want: wantRQ + " result= pdata=2/28", counters: map[string]uint64{"dicom_pdata_pdus": 2}},
	{name: "server side only", server: cat(ac, pdata), want: "MODALITY1>PACS impl=/ as= result=accepted ctx=1/0 pdata=1/14"},
	{name: "accepted, then aborted", client: cat(rq, pdata), server: cat(ac, abort), want: wantRQ + " result=aborted ctx=1/0 pdata=1/14", done: true},
	{
		name:   "patient attributes in data sets, across PDVs and PDUs; roles; a rejected context",
		client: cat(roleRQ, storeData, relRQ),
		server: cat(acMixed, relRP),
		want: wantRQ + " result=released ctx=1/2 roles=" + ctImage + ":SCU+SCP," + verify + ":SCP,1.2.3:none pdata=3/" +
			fmt.Sprint(len(storeData)-18) + " patient=4",
		done: true,
	},
	{
		name: "item length lies",
		client: func() []byte {
			b := append([]byte(nil), rq...)
			// The user information item (last) claims 0x7fff bytes.
			at := len(b) - len(item(0x50, cat(item(0x51, []byte{0, 0, 0x40, 0}), item(0x52, []byte("1.2.826.0.1.3680043.2.1")), item(0x55, []byte("DCMTK_364")))))
			b[at+2], b[at+3] = 0x7f, 0xff
			return b
		}(),
		server:   ac,
		want:     "MODALITY1>PACS impl=/ as=" + ctImage + "," + verify + " result=accepted ctx=1/0",
		counters: map[string]uint64{"dicom_bad_item": 1},
	},
	{
		// The abstract syntax sub-item claims more than its presentation context holds:
		// the context is dropped and counted, the AE titles and implementation still read.
		name:     "sub-item length lies",
		client:   lyingSubItem(),
		server:   ac,
		want:     "B>A impl=4.5/V as= result=accepted ctx=1/0",
		counters: map[string]uint64{"dicom_bad_item": 1},
	},
	{
		name:     "unknown PDU type stops the direction",
		client:   cat([]byte{0x09, 0, 0, 0, 0, 2, 1, 2}, rq),
		server:   ac,
		want:     "MODALITY1>PACS impl=/ as= result=accepted ctx=1/0",
		counters: map[string]uint64{"dicom_bad_pdu": 1},
	},
	{
		name:     "RQ cut short by the end of the flow",
		client:   rq[:len(rq)-30],
		want:     "MODALITY1>PACS impl=/ as=" + ctImage + "," + verify + " result=",
		counters: map[string]uint64{"dicom_truncated": 1, "dicom_bad_item": 1},
	},
	{
		name:     "RQ with an absurd length is skipped, the AC still names the peers",
		client:   cat([]byte{1, 0, 0xff, 0xff, 0xff, 0xff}, rq[6:]),
		server:   ac,
		want:     "MODALITY1>PACS impl=/ as= result=accepted ctx=1/0",
		counters: map[string]uint64{"dicom_pdu_too_large": 1},
	},
	{
		name:   "AE titles with control bytes and no padding",
		client: cat(pdu(1, cat([]byte{0, 1, 0, 0}, []byte("AAAAAAAAAAAAAAA\x01"), []byte(" \x00 CALLING\x00     "), make([]byte, 32)))),
		server: rj,
		want:   "CALLING>AAAAAAAAAAAAAAA impl=/ as= result=rejected", /* the escape of the 16th byte does not fit the 16-byte field */
		done:   true,
	},
}

// lyingSubItem is an RQ whose abstract syntax sub-item claims more than its presentation
// context item holds.
func lyingSubItem() []byte {
	b := associate(1, "A", "B", []string{"1.2.3"}, "4.5", "V")
	i := strings.Index(string(b), "1.2.3") - 4
	b[i+2], b[i+3] = 0, 0x60
	return b
}

func TestDICOM(t *testing.T) {
	for _, tc := range dicomCases {
		t.Run(tc.name, func(t *testing.T) {
			whole, done := run([][]byte{tc.client}, [][]byte{tc.server})
			if got := summary(whole); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if done != tc.done {
				t.Errorf("Done = %v", done)
			}
			for k, v := range tc.counters {
				if whole.Counters[k] != v {
					t.Errorf("counter %s = %d, want %d (%v)", k, whole.Counters[k], v, whole.Counters)
				}
			}
			whole.Sink.NoSecret(t, "DOE", "JANE")
			for _, a := range whole.Sink.DICOM {
				if a.Flow != flow || !a.FirstSeen.Equal(t0) {
					t.Errorf("association = %+v", a)
				}
			}
			want := whole.Sink.Dump()
			for i, parts := range corpustest.Splits(tc.client) {
				if got, _ := run(parts, [][]byte{tc.server}); got.Sink.Dump() != want {
					t.Fatalf("client split %d:\n%s\nwant\n%s", i, got.Sink.Dump(), want)
				}
			}
			for i, parts := range corpustest.Splits(tc.server) {
				if got, _ := run([][]byte{tc.client}, parts); got.Sink.Dump() != want {
					t.Fatalf("server split %d:\n%s\nwant\n%s", i, got.Sink.Dump(), want)
				}
			}
		})
	}
}

func TestNames(t *testing.T) {
	h, _ := run([][]byte{rq}, [][]byte{rj})
	if a := h.Sink.DICOM[0]; strings.Join(a.AbstractSyntaxNames, ",") != "CT Image Storage,Verification" {
		t.Fatalf("names = %q", a.AbstractSyntaxNames)
	}
	for uid, want := range map[string]string{
		"1.2.840.10008.5.1.4.31": "Modality Worklist Information Model - FIND", implicit: "Implicit VR Little Endian",
		"1.2.840.10008.5.1.4.1.1.104.1": "Encapsulated PDF Storage", "1.2.3.4": "1.2.3.4", "": "",
	} {
		if got := Name(uid); got != want {
			t.Errorf("Name(%q) = %q, want %q", uid, got, want)
		}
	}
}

func TestAnswerBeforeRequestCompletes(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, rq[:50], t0)
	d.Data(dissect.ServerToClient, ac, t0)
	if d.Done() {
		t.Fatal("done before the request was read")
	}
	d.Data(dissect.ClientToServer, rq[50:], t0)
	if d.Done() {
		t.Fatal("done before the association ended")
	}
	d.Data(dissect.ServerToClient, abort, t0)
	if !d.Done() {
		t.Fatal("not done after the abort")
	}
	d.End(t0)
	if got := summary(h); got != wantRQ+" result=aborted ctx=1/0" {
		t.Fatalf("got %s", got)
	}
}

func TestGaps(t *testing.T) {
	t.Run("inside a P-DATA body", func(t *testing.T) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		big := pdu(pduPData, make([]byte, 5000))
		d.Data(dissect.ClientToServer, cat(rq, big[:100]), t0)
		d.Gap(dissect.ClientToServer, 4000)
		d.Data(dissect.ClientToServer, cat(big[4100:], pdata), t0)
		d.End(t0)
		if h.Counters["dicom_pdata_pdus"] != 2 || h.Counters["dicom_gap"] != 0 {
			t.Errorf("counters = %v", h.Counters)
		}
	})
	t.Run("inside the RQ", func(t *testing.T) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		d.Data(dissect.ClientToServer, rq[:120], t0)
		d.Gap(dissect.ClientToServer, 20)
		d.Data(dissect.ClientToServer, rq[140:], t0)
		d.Gap(dissect.ServerToClient, 10)
		if !d.Done() {
			t.Error("not done with both directions lost")
		}
		d.End(t0)
		if got := summary(h); !strings.HasPrefix(got, "MODALITY1>PACS") || h.Counters["dicom_gap"] != 2 {
			t.Errorf("got %s, counters %v", got, h.Counters)
		}
	})
}

func TestBodyNotBuffered(t *testing.T) {
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, append(append([]byte(nil), rq...), pduPData, 0, 0x7f, 0xff, 0xff, 0xff), t0)
	chunk := make([]byte, 64<<10)
	if n := testing.AllocsPerRun(100, func() { d.Data(dissect.ClientToServer, chunk, t0) }); n != 0 {
		t.Errorf("skipping P-DATA allocates %v per call", n)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want dissect.Verdict
	}{
		{rq, dissect.Yes},
		{rq[:8], dissect.Yes},
		{rq[:7], dissect.NeedMore},
		{rq[:3], dissect.NeedMore},
		{nil, dissect.NeedMore},
		{[]byte{1, 0, 0, 0, 0, 10, 0, 1}, dissect.No},   // too short for an RQ
		{[]byte{1, 0, 0, 0x20, 0, 0, 0, 1}, dissect.No}, // 2 MiB
		{[]byte{1, 0, 0, 0, 0, 0x80, 0, 2}, dissect.No}, // version 2
		{[]byte{1, 1, 0, 0, 0, 0x80, 0, 1}, dissect.No}, // reserved byte set
		{[]byte{2, 0, 0, 0, 0, 0x80, 0, 1}, dissect.No}, // an AC
		{[]byte("GET / HTTP/1.1"), dissect.No},
	} {
		if m := Detect(tc.in); m.Verdict != tc.want || m.FromServer {
			t.Errorf("Detect(% x) = %+v, want %v", tc.in, m, tc.want)
		}
	}
	if Dissector.Name != "dicom" {
		t.Fatal("Dissector not wired")
	}
}

func TestCorpus(t *testing.T) {
	const file = "tapirx-dicom-arq-find.pcapng"
	want := corpustest.Expected(t, file)
	if len(want.DICOMAssoc) == 0 {
		t.Fatal("oracle lists no association")
	}
	var got []observe.DICOMAssociation
	for _, st := range corpustest.TCPStreams(t, file) {
		if Detect(st.ClientBytes).Verdict != dissect.Yes {
			continue
		}
		h := corpustest.NewHarness(st.Flow())
		corpustest.Replay(New(h.Ctx), st)
		got = append(got, h.Sink.DICOM...)
		if len(h.Counters) != 0 {
			t.Errorf("counters = %v", h.Counters)
		}
	}
	if len(got) != len(want.DICOMAssoc) {
		t.Fatalf("got %+v, oracle %+v", got, want.DICOMAssoc)
	}
	for i, w := range want.DICOMAssoc {
		a := got[i]
		server := a.Flow.Server.Addr().String() + ":" + fmt.Sprint(a.Flow.Server.Port())
		if a.CallingAE != w.Calling || a.CalledAE != w.Called || server != w.Server {
			t.Errorf("association %+v, oracle %+v", a, w)
		}
		if a.ImplClassUID != "1.2.826.0.1.3680043.9.7133.1.1" || a.ImplVersion != "GODICOM_1_1" || len(a.AbstractSyntaxes) != 4 {
			t.Errorf("association %+v", a)
		}
	}
}

// FuzzStream feeds arbitrary bytes to both directions, split and with an optional gap.
func FuzzStream(f *testing.F) {
	for _, tc := range dicomCases {
		f.Add(tc.client, tc.server, uint16(40), uint16(0))
	}
	if corpustest.Present() {
		for _, st := range corpustest.TCPStreams(f, "tapirx-dicom-arq-find.pcapng") {
			f.Add(st.ClientBytes, st.ServerBytes, uint16(100), uint16(3))
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
		if len(h.Sink.DICOM) > 1 {
			t.Fatalf("more than one association: %s", h.Sink.Dump())
		}
		for _, a := range h.Sink.DICOM {
			if len(a.CallingAE) > 16 || len(a.CalledAE) > 16 || len(a.AbstractSyntaxes) > maxSyntaxes ||
				len(a.ImplClassUID) > maxUID || len(a.ImplVersion) > maxUID || len(a.Roles) > maxSyntaxes ||
				observe.Clean(a.CallingAE) != a.CallingAE || observe.Clean(a.CalledAE) != a.CalledAE ||
				len(a.AbstractSyntaxNames) != len(a.AbstractSyntaxes) || a.PatientAttributes < 0 || a.PDataBytes < 0 {
				t.Fatalf("unbounded: %+v", a)
			}
		}
	})
}
