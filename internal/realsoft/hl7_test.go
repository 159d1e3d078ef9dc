package realsoft

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
)

// The patient and next of kin planted in the HL7 messages.
const (
	hl7Family  = "Okonkwo-Lindqvist"
	hl7Given   = "Perpetua"
	hl7Kin     = "Barnabas"
	hl7Patient = "MRN-77123409"
)

// hl7Messages are what a ward monitor's interface sends to the EHR: an observation
// result and an admission, each with a patient segment, in HL7's \r-separated form.
var hl7Messages = []string{
	strings.Join([]string{
		`MSH|^~\&|MONITOR|WARD7|EHR|HOSP|20250301120000||ORU^R01|CTRL-0001|P|2.5`,
		`PID|1||` + hl7Patient + `^^^HOSP^MR||` + hl7Family + `^` + hl7Given + `||19700101|F`,
		`OBR|1||OBS-1|8867-4^Heart rate^LN`,
		`OBX|1|NM|8867-4^Heart rate^LN||72|/min|||||F`,
	}, "\r") + "\r",
	strings.Join([]string{
		`MSH|^~\&|MONITOR|WARD7|EHR|HOSP|20250301120100||ADT^A01|CTRL-0002|P|2.5`,
		`EVN|A01|20250301120100`,
		`PID|1||` + hl7Patient + `^^^HOSP^MR||` + hl7Family + `^` + hl7Given + `||19700101|F`,
		`NK1|1|` + hl7Family + `^` + hl7Kin + `|SPO`,
		`PV1|1|I|WARD7^12^1`,
	}, "\r") + "\r",
}

// MLLP framing: a message is sent as <VT> message <FS><CR>.
const (
	mllpStart = 0x0b
	mllpEnd   = 0x1c
)

func mllpFrame(msg string) []byte {
	return append(append([]byte{mllpStart}, msg...), mllpEnd, '\r')
}

// mllpListener is the receiving side: there is no small HL7 engine in Debian, so the
// test plays the EHR's interface, accepting MLLP on 127.0.0.1 and answering each
// message with an ACK (MSA|AA) carrying its control ID, as an engine does.
type mllpListener struct {
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	received []string // the MSH-9 of each message received
	errs     []string
}

func startMLLP(t *testing.T) *mllpListener {
	t.Helper()
	return startMLLPOn(t, "127.0.0.1:0")
}

// startMLLPOn is startMLLP on a given loopback address and port.
func startMLLPOn(t *testing.T, addr string) *mllpListener {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	l := &mllpListener{ln: ln}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				defer conn.Close()
				if err := l.serve(conn); err != nil {
					l.mu.Lock()
					l.errs = append(l.errs, err.Error())
					l.mu.Unlock()
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		l.wg.Wait()
	})
	return l
}

// serve reads framed messages until the sender closes, acknowledging each.
func (l *mllpListener) serve(conn net.Conn) error {
	r := bufio.NewReader(conn)
	for n := 0; ; n++ {
		conn.SetDeadline(time.Now().Add(15 * time.Second))
		if _, err := r.ReadBytes(mllpStart); err != nil {
			return nil // the sender is done
		}
		body, err := r.ReadBytes(mllpEnd)
		if err != nil {
			return fmt.Errorf("message %d: no end of block: %w", n, err)
		}
		if cr, err := r.ReadByte(); err != nil || cr != '\r' {
			return fmt.Errorf("message %d: no CR after the end of block", n)
		}
		msh := strings.Split(strings.SplitN(string(body[:len(body)-1]), "\r", 2)[0], "|")
		if len(msh) < 12 || msh[0] != "MSH" {
			return fmt.Errorf("message %d: no MSH segment", n)
		}
		l.mu.Lock()
		l.received = append(l.received, msh[8])
		l.mu.Unlock()
		// The ACK swaps sender and receiver and echoes the control ID (MSH-10) in MSA-2.
		trigger := strings.Split(msh[8], "^")
		ack := strings.Join([]string{
			strings.Join([]string{"MSH", msh[1], msh[4], msh[5], msh[2], msh[3], msh[6], "",
				"ACK^" + trigger[len(trigger)-1] + "^ACK", "ACK-" + msh[9], msh[10], msh[11]}, "|"),
			"MSA|AA|" + msh[9],
		}, "\r") + "\r"
		if _, err := conn.Write(mllpFrame(ack)); err != nil {
			return fmt.Errorf("message %d: writing the ACK: %w", n, err)
		}
	}
}

// messages are the MSH-9 of the messages received so far.
func (l *mllpListener) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.received)
}

func (l *mllpListener) port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// TestHL7MLLP captures mllp_send (python3-hl7) delivering two messages with patient
// segments to an MLLP listener, and requires medscan to report each message type, the
// ACKs, and a critical cleartext-hl7, keeping no patient data.
func TestHL7MLLP(t *testing.T) {
	t.Parallel()
	mllpSend := requireTool(t, "mllp_send", "python3-hl7")
	dir := t.TempDir()
	var stream []byte
	for _, m := range hl7Messages {
		stream = append(stream, mllpFrame(m)...)
	}
	file := filepath.Join(dir, "messages.hl7")
	if err := os.WriteFile(file, stream, 0o600); err != nil {
		t.Fatal(err)
	}

	l := startMLLP(t)
	port := l.port()
	c := startCapture(t, port)
	// mllp_send waits for each message's ACK before the next, and prints the ACKs.
	out := run(t, 20*time.Second, nil, mllpSend, "--port", fmt.Sprint(port), "--file", file, "127.0.0.1")
	pcap := c.stop(t)
	l.mu.Lock()
	received, errs := slices.Clone(l.received), slices.Clone(l.errs)
	l.mu.Unlock()
	if !slices.Equal(received, []string{"ORU^R01", "ADT^A01"}) || len(errs) > 0 || strings.Count(out, "MSA|AA|") != 2 {
		t.Fatalf("the listener received %q (errors %q); mllp_send printed:\n%s", received, errs, out)
	}

	s := scan(t, c.path)
	// Patient segments: the ORU's PID; the ADT's PID, NK1 and PV1.
	for _, want := range []struct {
		typ, event string
		patient    int
	}{{"ORU", "R01", 1}, {"ADT", "A01", 3}} {
		i := slices.IndexFunc(s.HL7, func(m findings.HL7Message) bool {
			return m.MessageType == want.typ && m.TriggerEvent == want.event && !m.IsAck
		})
		if i < 0 {
			t.Errorf("no hl7[] %s^%s; medscan has %+v", want.typ, want.event, s.HL7)
			continue
		}
		m := s.HL7[i]
		if m.Client != "127.0.0.1" || m.Host != "127.0.0.1" || m.Port != port {
			t.Errorf("%s^%s: client %s, server %s:%d; want 127.0.0.1 → 127.0.0.1:%d", want.typ, want.event, m.Client, m.Host, m.Port, port)
		}
		if m.SendingApp != "MONITOR" || m.SendingFacility != "WARD7" || m.ReceivingApp != "EHR" || m.ReceivingFacility != "HOSP" || m.Version != "2.5" {
			t.Errorf("%s^%s: %s/%s → %s/%s v%s; want MONITOR/WARD7 → EHR/HOSP v2.5", want.typ, want.event,
				m.SendingApp, m.SendingFacility, m.ReceivingApp, m.ReceivingFacility, m.Version)
		}
		if m.PatientSegments != want.patient {
			t.Errorf("%s^%s: patient_segments %d, want %d", want.typ, want.event, m.PatientSegments, want.patient)
		}
	}
	// The ACKs tell the receiver (the EHR's engine) from the sender.
	if !slices.ContainsFunc(s.HL7, func(m findings.HL7Message) bool {
		return m.IsAck && m.MessageType == "ACK" && m.SendingApp == "EHR" && m.Host == "127.0.0.1" && m.Port == port
	}) {
		t.Errorf("no hl7[] ACK from EHR on port %d; medscan has %+v", port, s.HL7)
	}
	if v := s.service(t, "127.0.0.1", port); v.Protocol != "hl7-mllp" {
		t.Errorf("service on %d: protocol %q, want hl7-mllp", port, v.Protocol)
	}
	f := s.finding(t, "cleartext-hl7", "127.0.0.1", port)
	if f.Severity != findings.Critical {
		t.Errorf("cleartext-hl7 is %s, want critical: patient segments crossed in clear", f.Severity)
	}
	s.private(t, pcap, hl7Family, hl7Given, hl7Kin, hl7Patient)
	if bytes.Contains(s.json, []byte("Heart rate")) {
		t.Error("an OBX observation is written out in the JSON report")
	}
}
