package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/observe"
)

// The protocols service detection names, as in observe.ProbeEndpoint.Protocol.
const (
	ProtoTLS     = "tls"
	ProtoHTTP    = "http"
	ProtoMLLP    = "hl7-mllp"
	ProtoDICOM   = "dicom"
	ProtoMQTT    = "mqtt"
	ProtoUnknown = "unknown"
)

// The identity medscan's DICOM probe presents. The implementation class UID is a UUID
// derived UID (2.25 root, PS3.5 B.2) minted once for medscan, so a PACS log names us.
const (
	dicomCallingAE    = "MEDSCAN"
	dicomCalledAE     = "ANY-SCP"
	dicomImplClassUID = "2.25.4743197242576557408728279054846861687"
	dicomImplVersion  = "MEDSCAN"
	uidVerification   = "1.2.840.10008.1.1"
	uidAppContext     = "1.2.840.10008.3.1.1.1"
	uidImplicitLE     = "1.2.840.10008.1.2"
)

// Port hints: the protocol conventionally found on a port, the only one a silent port is
// asked about. A silent port without a convention is asked nothing: interface engines
// run MLLP listeners on whatever ports a site chose, and HL7 is only ever listened to,
// because anything sent to an interface engine may become a clinical message. The MLLP
// ports are listed so that no future hint can claim them.
var (
	hintDICOM = []uint16{104, 2761, 2762, 4242, 11112}
	hintMQTT  = []uint16{1883, 8883}
	hintHTTP  = []uint16{80, 443, 4443, 8000, 8008, 8080, 8081, 8088, 8443, 8888, 9080, 9443}
	hintMLLP  = []uint16{2575, 6661}
)

// serviceResult is what detection learned about one non-TLS port.
type serviceResult struct {
	Protocol string // "" when nothing was identified
	// Software is what the peer announced it runs: a DICOM peer's implementation
	// version name and class UID. The prober's own association is never reported as a
	// DICOM observation: cleartext-dicom speaks of clinical traffic between hosts.
	Software string
	Err      error // the last error of an active probe
}

// classifyReply names the service behind bytes a peer sent unasked or in answer to a
// ClientHello, or returns "" when they prove nothing. Only unambiguous evidence counts:
// an HTTP status line, an MLLP frame (start block 0x0b, end block 0x1c 0x0d), or a DICOM
// PDU of the kinds a DICOM peer answers a stranger with (A-ASSOCIATE-RJ, A-ABORT), with
// the length those PDUs always have.
func classifyReply(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/1.")):
		return ProtoHTTP
	case isMLLP(b):
		return ProtoMLLP
	case len(b) >= 10 && (b[0] == 0x03 || b[0] == 0x07) && b[1] == 0 && binary.BigEndian.Uint32(b[2:6]) == 4:
		return ProtoDICOM
	}
	return ""
}

// isMLLP reports whether b holds an MLLP frame: a start block first, then an end block.
// A peer that merely sends 0x0b somewhere is not enough.
func isMLLP(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x0b && bytes.Contains(b[1:], []byte{0x1c, 0x0d})
}

// detectService identifies a port that did not speak TLS. reply is what the peer sent
// during the TLS attempt; opened says whether any connection to the port succeeded.
// Passive evidence comes first and costs nothing. Otherwise, in the standard profile
// and above, a port with a conventional protocol is asked in that protocol only: an HTTP
// HEAD, a DICOM association for Verification then released, or an MQTT CONNECT without
// credentials then DISCONNECT. A silent port without a convention is asked nothing (see
// the port hints).
func detectService(ctx context.Context, d Dialer, server netip.AddrPort, p Profile, to Timeouts, reply []byte, opened bool) serviceResult {
	if proto := classifyReply(reply); proto != "" {
		return serviceResult{Protocol: proto}
	}
	port := server.Port()
	if !opened || len(reply) > 0 || p == ProfileInventory || slices.Contains(hintMLLP, port) {
		return serviceResult{}
	}
	var order []string
	switch {
	case slices.Contains(hintDICOM, port):
		order = []string{ProtoDICOM}
	case slices.Contains(hintMQTT, port):
		order = []string{ProtoMQTT}
	case slices.Contains(hintHTTP, port):
		order = []string{ProtoHTTP}
	default:
		return serviceResult{}
	}
	var res serviceResult
	for _, proto := range order {
		if ctx.Err() != nil {
			return res
		}
		c, err := d.Dial(ctx, port)
		if err != nil {
			res.Err = err
			return res
		}
		var answered bool
		switch proto {
		case ProtoHTTP:
			answered, err = probeHTTP(c)
			if err == nil {
				res.Protocol = ProtoHTTP
			}
		case ProtoDICOM:
			var a *observe.DICOMAssociation
			a, answered, err = probeDICOM(c, to)
			if err == nil {
				res.Protocol = ProtoDICOM
				res.Software = strings.TrimSpace(a.ImplVersion + " " + a.ImplClassUID)
			}
		case ProtoMQTT:
			answered, err = probeMQTT(c)
			if err == nil {
				res.Protocol = ProtoMQTT
			}
		}
		_ = c.Close()
		res.Err = err
		if res.Protocol != "" || answered {
			return res
		}
	}
	return res
}

// errNotService is a probe's answer when the peer said something, but not its protocol.
var errNotService = errors.New("probe: the answer is not of the protocol asked")

// readUpTo reads until b is full, the peer stops or the deadline passes; it returns
// what arrived. Only the first error matters to callers when nothing arrived.
func readUpTo(c net.Conn, b []byte) (int, error) {
	n, err := io.ReadFull(c, b)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// probeHTTP sends HEAD / over HTTP/1.0: the request with no body, no host guesswork and
// no keep-alive, which every HTTP server answers and no other service mistakes for
// its own. answered reports whether the peer sent anything at all.
func probeHTTP(c net.Conn) (answered bool, err error) {
	if _, err := io.WriteString(c, "HEAD / HTTP/1.0\r\nUser-Agent: medscan-probe\r\n\r\n"); err != nil {
		return false, fmt.Errorf("probe: send http head: %w", err)
	}
	return readHTTP(c)
}

// readHTTP reads a peer's answer to HEAD and checks for a status line.
func readHTTP(c net.Conn) (answered bool, err error) {
	buf := make([]byte, 8)
	n, rerr := readUpTo(c, buf)
	if n == 0 {
		return false, fmt.Errorf("probe: read http answer: %w", rerr)
	}
	if classifyReply(buf[:n]) != ProtoHTTP {
		return true, errNotService
	}
	return true, nil
}

// probeMQTT sends an MQTT 3.1.1 CONNECT with a random client id, a clean session and no
// credentials; any CONNACK identifies a broker, whatever its return code. A broker that
// accepted is told DISCONNECT, so that it publishes no will and keeps no session.
func probeMQTT(c net.Conn) (answered bool, err error) {
	if _, err := c.Write(mqttConnect()); err != nil {
		return false, fmt.Errorf("probe: send mqtt connect: %w", err)
	}
	answered, code, err := readCONNACK(c)
	if err != nil {
		return answered, err
	}
	if code == 0 {
		_, _ = c.Write([]byte{0xe0, 0x00})
	}
	return true, nil
}

// mqttConnect builds the CONNECT packet: protocol "MQTT" level 4, clean session, a
// keep-alive of 10 s, client id "medscan-" and 8 random hex digits (a fixed id would
// make two scanners, or a scan and a real client, take each other's session over).
func mqttConnect() []byte {
	var r [4]byte
	_, _ = rand.Read(r[:])
	id := "medscan-" + hex.EncodeToString(r[:])
	vh := []byte{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x0a}
	payload := binary.BigEndian.AppendUint16(nil, uint16(len(id)))
	payload = append(payload, id...)
	pkt := []byte{0x10, byte(len(vh) + len(payload))}
	pkt = append(pkt, vh...)
	return append(pkt, payload...)
}

// readCONNACK reads a CONNACK (type 2; MQTT 5 adds properties after the two bytes every
// version has) and returns its return or reason code.
func readCONNACK(c net.Conn) (answered bool, code byte, err error) {
	var h [4]byte
	n, rerr := readUpTo(c, h[:])
	if n == 0 {
		return false, 0, fmt.Errorf("probe: read mqtt connack: %w", rerr)
	}
	if n < 4 || h[0] != 0x20 || h[1] < 2 || h[1] > 0x7f || h[2] > 1 {
		return true, 0, errNotService
	}
	return true, h[3], nil
}

// probeDICOM proposes an association for the Verification SOP class only and, if it is
// accepted, releases it at once; no DIMSE message is sent. Any well-formed
// A-ASSOCIATE-AC, A-ASSOCIATE-RJ or A-ABORT identifies DICOM.
func probeDICOM(c net.Conn, to Timeouts) (a *observe.DICOMAssociation, answered bool, err error) {
	if _, err := c.Write(dicomAssociateRQ()); err != nil {
		return nil, false, fmt.Errorf("probe: send dicom a-associate-rq: %w", err)
	}
	a, answered, err = readAssociateAnswer(c)
	if err != nil {
		return nil, answered, err
	}
	a.FirstSeen = time.Now()
	if a.Result == "accepted" {
		// A-RELEASE-RQ, then a short wait for A-RELEASE-RP so the peer sees an orderly end.
		if _, err := c.Write([]byte{0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0}); err == nil {
			_ = c.SetReadDeadline(time.Now().Add(min(time.Second, to.Handshake)))
			var rp [10]byte
			if n, _ := readUpTo(c, rp[:]); n >= 1 && rp[0] == 0x06 {
				a.Result = "released"
			}
		}
	}
	return a, true, nil
}

// dicomAssociateRQ builds the A-ASSOCIATE-RQ: one presentation context proposing
// Verification in Implicit VR Little Endian, a 16 KiB maximum PDU length, and medscan's
// implementation class UID and version name.
func dicomAssociateRQ() []byte {
	item := func(typ byte, body []byte) []byte {
		b := []byte{typ, 0}
		b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
		return append(b, body...)
	}
	ae := func(s string) []byte { return []byte(fmt.Sprintf("%-16s", s)) }

	body := []byte{0x00, 0x01, 0x00, 0x00}
	body = append(body, ae(dicomCalledAE)...)
	body = append(body, ae(dicomCallingAE)...)
	body = append(body, make([]byte, 32)...)
	body = append(body, item(0x10, []byte(uidAppContext))...)
	pc := []byte{0x01, 0, 0, 0}
	pc = append(pc, item(0x30, []byte(uidVerification))...)
	pc = append(pc, item(0x40, []byte(uidImplicitLE))...)
	body = append(body, item(0x20, pc)...)
	ui := item(0x51, binary.BigEndian.AppendUint32(nil, 16384))
	ui = append(ui, item(0x52, []byte(dicomImplClassUID))...)
	ui = append(ui, item(0x55, []byte(dicomImplVersion))...)
	body = append(body, item(0x50, ui)...)

	pdu := []byte{0x01, 0x00}
	pdu = binary.BigEndian.AppendUint32(pdu, uint32(len(body)))
	return append(pdu, body...)
}

// maxACLength bounds the A-ASSOCIATE-AC medscan reads; an answer to one presentation
// context is a few hundred bytes.
const maxACLength = 16 << 10

// readAssociateAnswer reads one PDU and decodes the answer to an A-ASSOCIATE-RQ.
func readAssociateAnswer(c net.Conn) (a *observe.DICOMAssociation, answered bool, err error) {
	var h [6]byte
	n, rerr := readUpTo(c, h[:])
	if n == 0 {
		return nil, false, fmt.Errorf("probe: read dicom answer: %w", rerr)
	}
	if n < 6 || h[1] != 0 {
		return nil, true, errNotService
	}
	length := binary.BigEndian.Uint32(h[2:])
	a = &observe.DICOMAssociation{
		CallingAE:           dicomCallingAE,
		CalledAE:            dicomCalledAE,
		AbstractSyntaxes:    []string{uidVerification},
		AbstractSyntaxNames: []string{"Verification"},
	}
	switch h[0] {
	case 0x03, 0x07:
		if length != 4 {
			return nil, true, errNotService
		}
		a.Result = "rejected"
		if h[0] == 0x07 {
			a.Result = "aborted"
		}
		return a, true, nil
	case 0x02:
		if length < 68 || length > maxACLength {
			abortDICOM(c)
			return nil, true, errNotService
		}
	default:
		return nil, true, errNotService
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(c, body); err != nil {
		abortDICOM(c)
		return nil, true, fmt.Errorf("probe: read dicom a-associate-ac: %w", err)
	}
	if err := parseAssociateAC(body, a); err != nil {
		abortDICOM(c)
		return nil, true, err
	}
	a.Result = "accepted"
	return a, true, nil
}

// parseAssociateAC decodes an A-ASSOCIATE-AC body (after the 6-byte PDU header): the
// presentation context results and the peer's implementation class UID and version.
func parseAssociateAC(body []byte, a *observe.DICOMAssociation) error {
	if len(body) < 68 || binary.BigEndian.Uint16(body[:2])&1 == 0 {
		return errNotService
	}
	for items := body[68:]; len(items) > 0; {
		if len(items) < 4 {
			return fmt.Errorf("probe: dicom a-associate-ac: truncated item: %w", errNotService)
		}
		typ, n := items[0], int(binary.BigEndian.Uint16(items[2:4]))
		if len(items) < 4+n {
			return fmt.Errorf("probe: dicom a-associate-ac: item 0x%02x overruns the pdu: %w", typ, errNotService)
		}
		val := items[4 : 4+n]
		items = items[4+n:]
		switch typ {
		case 0x21:
			if len(val) >= 4 {
				if val[2] == 0 {
					a.AcceptedContexts++
				} else {
					a.RejectedContexts++
				}
			}
		case 0x50:
			for sub := val; len(sub) >= 4; {
				st, sn := sub[0], int(binary.BigEndian.Uint16(sub[2:4]))
				if len(sub) < 4+sn {
					break
				}
				sv := sub[4 : 4+sn]
				sub = sub[4+sn:]
				switch st {
				case 0x52:
					a.ImplClassUID = peerText(sv)
				case 0x55:
					a.ImplVersion = peerText(sv)
				}
			}
		}
	}
	return nil
}

// peerText keeps a peer's identifier as text: trailing NUL and space padding dropped,
// capped, and cleaned as every text from the wire is (observe.Text).
func peerText(b []byte) string { return observe.Text(bytes.TrimRight(b, "\x00 "), 64) }

// abortDICOM ends an association the peer accepted but medscan cannot go on with (an
// A-ASSOCIATE-AC it could not read), with an A-ABORT from the service user: a DICOM peer
// is never left holding an association that was neither released nor aborted.
func abortDICOM(c net.Conn) {
	_, _ = c.Write([]byte{0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0})
}
