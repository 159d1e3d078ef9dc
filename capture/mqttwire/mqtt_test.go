package mqttwire

import (
	"bytes"
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
		Server: netip.MustParseAddrPort("10.2.2.2:1883"),
	}
	t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
)

func vint(n int) []byte {
	var out []byte
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			return out
		}
	}
}

func str(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

// connect builds a CONNECT packet. user/pass nil means absent; props are the MQTT 5
// property blocks (connect, will) used when level is 5.
type connectSpec struct {
	name          string
	level         byte
	clientID      string
	will          bool
	user, pass    *string
	props, wprops []byte
}

func sp(s string) *string { return &s }

func (c connectSpec) bytes() []byte {
	flags := byte(0x02)
	if c.will {
		flags |= 0x04
	}
	if c.user != nil {
		flags |= 0x80
	}
	if c.pass != nil {
		flags |= 0x40
	}
	body := append(str(c.name), c.level, flags, 0, 60)
	if c.level == 5 {
		body = append(append(body, vint(len(c.props))...), c.props...)
	}
	body = append(body, str(c.clientID)...)
	if c.will {
		if c.level == 5 {
			body = append(append(body, vint(len(c.wprops))...), c.wprops...)
		}
		body = append(append(body, str("lwt/topic")...), str("offline")...)
	}
	if c.user != nil {
		body = append(body, str(*c.user)...)
	}
	if c.pass != nil {
		body = append(body, str(*c.pass)...)
	}
	return append(append([]byte{0x10}, vint(len(body))...), body...)
}

var (
	publish = []byte{0x30, 0x07, 0x00, 0x01, 't', 'h', 'e', 'l', 'o'}
	connack = []byte{0x20, 0x02, 0x00, 0x00}
)

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

func TestConnect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		client  []byte
		server  []byte
		want    string // MQTTConnect as name/level/client/user/hasUser/hasPass, "" for none
		cred    string // credential user, "-" for none
		counter string
		done    bool
	}{
		{
			name:   "3.1.1 with user and password",
			client: append(connectSpec{name: "MQTT", level: 4, clientID: "pump-17", user: sp("device"), pass: sp("Br0kerSecret!")}.bytes(), publish...),
			server: connack, want: "MQTT/4/pump-17/device/true/true", cred: "device", done: true,
		},
		{
			name:   "3.1 without credentials",
			client: connectSpec{name: "MQIsdp", level: 3, clientID: "paho/34AAE54A75D839566E"}.bytes(),
			server: connack, want: "MQIsdp/3/paho/34AAE54A75D839566E//false/false", cred: "-", done: true,
		},
		{
			name: "5 with properties, a will with properties, user and password",
			client: connectSpec{name: "MQTT", level: 5, clientID: "monitor", will: true, user: sp("svc"), pass: sp("Br0kerSecret!"),
				props: []byte{0x11, 0, 0, 0, 10, 0x21, 0, 20}, wprops: []byte{0x18, 0, 0, 0, 5}}.bytes(),
			server: []byte{0x20, 0x03, 0x00, 0x00, 0x00}, want: "MQTT/5/monitor/svc/true/true", cred: "svc", done: true,
		},
		{
			name:   "5 with a password and no user name",
			client: connectSpec{name: "MQTT", level: 5, clientID: "x", pass: sp("Br0kerSecret!")}.bytes(),
			want:   "MQTT/5/x//false/true", cred: "",
		},
		{
			name:   "refused CONNACK is counted",
			client: connectSpec{name: "MQTT", level: 4, clientID: "c", user: sp("u"), pass: sp("Br0kerSecret!")}.bytes(),
			server: []byte{0x20, 0x02, 0x00, 0x05}, want: "MQTT/4/c/u/true/true", cred: "u", counter: "mqtt_connack_refused", done: true,
		},
		{
			name:   "CONNACK with a long-encoded length",
			client: connectSpec{name: "MQTT", level: 5, clientID: "c"}.bytes(),
			server: []byte{0x20, 0x83, 0x80, 0x80, 0x00, 0x00, 0x00, 0x00}, want: "MQTT/5/c//false/false", cred: "-", done: true,
		},
		{
			name: "password length lies",
			client: func() []byte {
				b := connectSpec{name: "MQTT", level: 4, clientID: "c", user: sp("u"), pass: sp("Br0kerSecret!")}.bytes()
				b[len(b)-len("Br0kerSecret!")-1] = 0x40 // claims 64 bytes, has 13
				return b
			}(),
			server: connack, cred: "-", counter: "mqtt_malformed", done: true,
		},
		{
			name: "property length lies",
			client: func() []byte {
				b := connectSpec{name: "MQTT", level: 5, clientID: "c", user: sp("u"), pass: sp("Br0kerSecret!"),
					props: []byte{0x11, 0, 0, 0, 1}}.bytes()
				b[12] = 0x7f // the property block now claims 127 bytes
				return b
			}(),
			cred: "-", counter: "mqtt_malformed",
		},
		{
			name:   "wrong level for the protocol name",
			client: connectSpec{name: "MQIsdp", level: 4, clientID: "c"}.bytes(),
			cred:   "-", counter: "mqtt_malformed",
		},
		{
			name:   "absurd remaining length",
			client: []byte{0x10, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04, 'M', 'Q', 'T', 'T'},
			cred:   "-", counter: "mqtt_connect_too_large",
		},
		{
			name:   "varint longer than four bytes",
			client: []byte{0x10, 0xff, 0xff, 0xff, 0xff, 0x01},
			cred:   "-", counter: "mqtt_malformed",
		},
		{
			name:   "not a CONNECT",
			client: []byte("GET / HTTP/1.1\r\n\r\n"),
			server: []byte("HTTP/1.1 400 Bad\r\n\r\n"),
			cred:   "-", counter: "mqtt_unexpected_packet", done: true,
		},
		{
			name:   "truncated CONNECT",
			client: connectSpec{name: "MQTT", level: 4, clientID: "c", user: sp("u"), pass: sp("Br0kerSecret!")}.bytes()[:20],
			cred:   "-", counter: "mqtt_truncated",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ref string
			clientSplits := corpustest.Splits(tc.client)
			serverSplits := corpustest.Splits(tc.server)
			variants := make([][2][][]byte, 0, len(clientSplits)+len(serverSplits))
			for _, c := range clientSplits {
				variants = append(variants, [2][][]byte{c, {tc.server}})
			}
			for _, s := range serverSplits {
				variants = append(variants, [2][][]byte{{tc.client}, s})
			}
			for i, v := range variants {
				h, done := run(v[0], v[1])
				got := h.Sink.Dump()
				if i == 0 {
					ref = got
					check(t, h, tc.want, tc.cred, tc.counter)
					if done != tc.done {
						t.Errorf("Done = %v", done)
					}
					continue
				}
				if got != ref {
					t.Fatalf("variant %d differs:\n%s\nwant\n%s", i, got, ref)
				}
				if done != tc.done {
					t.Fatalf("variant %d: Done = %v", i, done)
				}
			}
		})
	}
}

func check(t *testing.T, h *corpustest.Harness, want, cred, counter string) {
	t.Helper()
	h.Sink.NoSecret(t, "Br0kerSecret!")
	var got []string
	for _, m := range h.Sink.MQTT {
		if m.Flow != flow || !m.FirstSeen.Equal(t0) {
			t.Errorf("flow/time: %+v", m)
		}
		got = append(got, strings.Join([]string{m.ProtocolName, string('0' + m.ProtocolLevel), m.ClientID, m.Username,
			boolStr(m.HasUsername), boolStr(m.HasPassword)}, "/"))
	}
	if strings.Join(got, ",") != want {
		t.Errorf("connects = %q, want %q", got, want)
	}
	switch {
	case cred == "-" && len(h.Sink.Credentials) != 0:
		t.Errorf("unexpected credentials %+v", h.Sink.Credentials)
	case cred != "-":
		if len(h.Sink.Credentials) != 1 {
			t.Fatalf("credentials = %+v", h.Sink.Credentials)
		}
		c := h.Sink.Credentials[0]
		p, hash := observe.NewSecretHasher(corpustest.Key).Hide([]byte("Br0kerSecret!"))
		if c.User != cred || c.Kind != "mqtt-password" || c.Protocol != "mqtt" || c.Preview != p || c.Hash != hash || c.Flow != flow {
			t.Errorf("credential = %+v", c)
		}
	}
	if counter != "" && h.Counters[counter] == 0 {
		t.Errorf("counter %s not set: %v", counter, h.Counters)
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestGap(t *testing.T) {
	b := connectSpec{name: "MQTT", level: 4, clientID: "c", user: sp("u"), pass: sp("Br0kerSecret!")}.bytes()
	h := corpustest.NewHarness(flow)
	d := New(h.Ctx)
	d.Data(dissect.ClientToServer, b[:10], t0)
	d.Gap(dissect.ClientToServer, 5)
	d.Data(dissect.ClientToServer, b[15:], t0)
	d.Gap(dissect.ServerToClient, 4)
	if !d.Done() {
		t.Error("not done after both directions were lost")
	}
	d.End(t0)
	if len(h.Sink.MQTT)+len(h.Sink.Credentials) != 0 || h.Counters["mqtt_gap"] != 2 {
		t.Errorf("emitted %s, counters %v", h.Sink.Dump(), h.Counters)
	}
}

func TestDetect(t *testing.T) {
	full := connectSpec{name: "MQTT", level: 4, clientID: "c"}.bytes()
	old := connectSpec{name: "MQIsdp", level: 3, clientID: "c"}.bytes()
	for _, tc := range []struct {
		in   []byte
		want dissect.Verdict
	}{
		{full, dissect.Yes},
		{old, dissect.Yes},
		{full[:8], dissect.Yes},
		{full[:7], dissect.NeedMore},
		{full[:1], dissect.NeedMore},
		{nil, dissect.NeedMore},
		{[]byte{0x10, 0x80}, dissect.NeedMore},
		{[]byte{0x10, 0x80, 0x80, 0x80, 0x80}, dissect.No},
		{[]byte{0x10, 0x05, 0x00, 0x04, 'M'}, dissect.No}, // too short to be a CONNECT
		{[]byte{0x10, 0x20, 0x00, 0x04, 'H', 'T', 'T', 'P'}, dissect.No},
		{[]byte{0x10, 0xff, 0xff, 0xff, 0x7f, 0, 4, 'M', 'Q', 'T', 'T'}, dissect.No},
		{[]byte{0x20, 0x02, 0x00, 0x00}, dissect.No},
		{[]byte("GET / HTTP/1.1"), dissect.No},
	} {
		m := Detect(tc.in)
		if m.Verdict != tc.want || m.FromServer {
			t.Errorf("Detect(% x) = %+v, want %v", tc.in, m, tc.want)
		}
	}
	if Dissector.Name != "mqtt" {
		t.Fatal("Dissector not wired")
	}
}

func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		file    string
		secrets []string
		user    string
	}{
		{"zeek-mqtt.pcap", nil, ""},
		{"suricata-mqtt311-userpass.pcap", nil, "user"}, // password "pass": checked by hash, as the client ID contains it
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := corpustest.Expected(t, tc.file)
			var got []observe.MQTTConnect
			for _, st := range corpustest.TCPStreams(t, tc.file) {
				if Detect(st.ClientBytes).Verdict != dissect.Yes {
					continue
				}
				h := corpustest.NewHarness(st.Flow())
				d := New(h.Ctx)
				corpustest.Replay(d, st)
				h.Sink.NoSecret(t, tc.secrets...)
				got = append(got, h.Sink.MQTT...)
				for _, m := range h.Sink.MQTT {
					if !m.HasPassword {
						continue
					}
					preview, hash := observe.NewSecretHasher(corpustest.Key).Hide([]byte("pass"))
					if len(h.Sink.Credentials) != 1 || h.Sink.Credentials[0].User != tc.user ||
						h.Sink.Credentials[0].Hash != hash || h.Sink.Credentials[0].Preview != preview {
						t.Errorf("credentials = %+v", h.Sink.Credentials)
					}
				}
				if h.Counters["mqtt_connack_refused"] != 0 {
					t.Errorf("counters = %v", h.Counters)
				}
			}
			if len(got) != len(want.MQTTConnect) {
				t.Fatalf("got %d CONNECTs, oracle %d", len(got), len(want.MQTTConnect))
			}
			for i, w := range want.MQTTConnect {
				m := got[i]
				server := m.Flow.Server.Addr().String() + ":" + itoa(int(m.Flow.Server.Port()))
				if server != w.Server || m.HasUsername != w.Username || m.HasPassword != w.Password {
					t.Errorf("connect %d = %+v, oracle %+v", i, m, w)
				}
			}
		})
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// FuzzStream feeds arbitrary bytes to both directions, split and with an optional gap.
func FuzzStream(f *testing.F) {
	f.Add(connectSpec{name: "MQTT", level: 4, clientID: "pump", user: sp("u"), pass: sp("p")}.bytes(), connack, uint16(3), false)
	f.Add(connectSpec{name: "MQTT", level: 5, clientID: "m", will: true, user: sp("u"), pass: sp("p"),
		props: []byte{0x11, 0, 0, 0, 10}, wprops: []byte{0x18, 0, 0, 0, 5}}.bytes(), []byte{0x20, 3, 0, 0, 0}, uint16(9), true)
	f.Add(connectSpec{name: "MQIsdp", level: 3, clientID: "x"}.bytes(), connack, uint16(0), false)
	if corpustest.Present() {
		for _, file := range []string{"zeek-mqtt.pcap", "suricata-mqtt311-userpass.pcap"} {
			for _, st := range corpustest.TCPStreams(f, file) {
				f.Add(st.ClientBytes, st.ServerBytes, uint16(5), false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cut uint16, gap bool) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		for _, x := range []struct {
			dir dissect.Direction
			b   []byte
		}{{dissect.ClientToServer, client}, {dissect.ServerToClient, server}} {
			k := int(cut) % (len(x.b) + 1)
			d.Data(x.dir, x.b[:k], t0)
			if gap {
				d.Gap(x.dir, 1)
			}
			d.Data(x.dir, x.b[k:], t0)
		}
		d.Done()
		d.End(t0)
		if len(h.Sink.MQTT) > 1 || len(h.Sink.Credentials) > 1 {
			t.Fatalf("more than one CONNECT: %s", h.Sink.Dump())
		}
		for _, m := range h.Sink.MQTT {
			if len(m.ClientID) > maxString || len(m.Username) > maxString {
				t.Fatalf("unbounded: %+v", m)
			}
		}
		if len(h.Sink.Credentials) == 1 && bytes.Contains([]byte(h.Sink.Dump()), []byte("Preview: ")) {
			t.Fatal("empty preview")
		}
	})
}
