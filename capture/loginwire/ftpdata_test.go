package loginwire

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

var tx = time.Date(2026, 3, 2, 8, 3, 30, 0, time.UTC)

// session drives an FTP control stream that may announce data connections, and
// returns the announcements and the set.
func session(t *testing.T, lines []msg, withExpect bool) (*stream, []dissect.Expectation, *observe.Set) {
	t.Helper()
	set := observe.NewSet()
	var got []dissect.Expectation
	ctx := &dissect.Context{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.20.3.50:50100"),
		Server: netip.MustParseAddrPort("10.20.0.60:21")}, Sink: set, Secrets: observe.NewSecretHasher(make([]byte, 32))}
	if withExpect {
		ctx.Expect = func(x dissect.Expectation) bool { got = append(got, x); return true }
	}
	s := FTP.New(ctx).(*stream)
	for i, m := range lines {
		s.Data(m.dir, []byte(m.text), tx.Add(time.Duration(i)*time.Millisecond))
	}
	return s, got, set
}

var login = []msg{S("220 ready\r\n"), C("USER biomed\r\n"), S("331 Password required\r\n"), C("PASS secret\r\n"), S("230 Logged in\r\n")}

func TestFTPTransfers(t *testing.T) {
	file := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 70000)...)
	sum := sha256.Sum256(file)
	tests := []struct {
		name     string
		lines    []msg
		listener string
		client   string
		url      string
		upload   bool
		emitted  bool
	}{
		{"PASV then RETR", []msg{S("227 Entering Passive Mode (10,20,0,60,195,80).\r\n"), C("RETR fw/a.img\r\n")},
			"10.20.0.60:50000", "10.20.3.50", "ftp://10.20.0.60/fw/a.img", false, true},
		{"227 names another host: the control server is kept", []msg{S("227 Entering Passive Mode (192,168,9,9,195,80)\r\n"), C("RETR a\r\n")},
			"10.20.0.60:50000", "10.20.3.50", "ftp://10.20.0.60/a", false, true},
		{"EPSV then STOR", []msg{S("229 Entering Extended Passive Mode (|||50001|)\r\n"), C("STOR up/b.bin\r\n")},
			"10.20.0.60:50001", "10.20.3.50", "ftp://10.20.0.60/{id}/{id}.bin", true, true},
		{"PORT", []msg{C("PORT 10,20,3,50,200,10\r\n"), S("200 PORT ok\r\n"), C("RETR c\r\n")},
			"10.20.3.50:51210", "10.20.0.60", "ftp://10.20.0.60/{id}", false, true},
		{"EPRT", []msg{C("EPRT |2|2001:db8::50|51211|\r\n"), S("200 ok\r\n"), C("RETR d\r\n")},
			"10.20.3.50:51211", "10.20.0.60", "ftp://10.20.0.60/{id}", false, true},
		{"a listing is not a file", []msg{S("227 Entering Passive Mode (10,20,0,60,195,80)\r\n"), C("LIST\r\n")},
			"10.20.0.60:50000", "10.20.3.50", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, xs, set := session(t, append(append([]msg{}, login...), tc.lines...), true)
			if s.Done() || len(xs) != 1 {
				t.Fatalf("done %v, expectations %+v", s.Done(), xs)
			}
			x := xs[0]
			if x.Name != "ftp-data" || x.Listener.String() != tc.listener || x.Client.String() != tc.client {
				t.Errorf("expectation %+v", x)
			}
			// The data connection: the engine's roles put the connecting host first.
			d := x.New(&dissect.Context{})
			dir := dissect.ServerToClient
			if tc.upload {
				dir = dissect.ClientToServer
			}
			d.Data(dir, file[:1000], tx)
			d.Data(dir, file[1000:], tx.Add(time.Second))
			d.End(tx.Add(time.Second))
			s.End(tx.Add(2 * time.Second))
			if !tc.emitted {
				if len(set.Transfers) != 0 {
					t.Errorf("transfers %+v", set.Transfers)
				}
				return
			}
			if len(set.Transfers) != 1 {
				t.Fatalf("transfers %+v", set.Transfers)
			}
			ft := set.Transfers[0]
			if ft.URL != tc.url || ft.Upload != tc.upload || ft.Bytes != int64(len(file)) || ft.SHA256 != hex.EncodeToString(sum[:]) ||
				ft.Protocol != "ftp" || ft.Flow.Server.Port() != 21 || (ft.Kind != "elf" && ft.Kind != "ext:.img" && ft.Kind != "ext:.bin") {
				t.Errorf("transfer %+v", ft)
			}
		})
	}
}

func TestFTPDataGapAndLateName(t *testing.T) {
	// The data connection ends before the control channel names it, and lost a segment.
	s, xs, set := session(t, append(append([]msg{}, login...), S("227 Entering Passive Mode (10,20,0,60,195,80)\r\n")), true)
	d := xs[0].New(&dissect.Context{})
	d.Data(dissect.ServerToClient, []byte("PK\x03\x04abc"), tx)
	d.Gap(dissect.ServerToClient, 100)
	d.Data(dissect.ServerToClient, []byte("def"), tx)
	d.End(tx)
	if len(set.Transfers) != 0 {
		t.Fatal("emitted before the name was known")
	}
	s.Data(dissect.ClientToServer, []byte("RETR pkg.zip\r\n"), tx)
	if len(set.Transfers) != 1 || !set.Transfers[0].Partial || set.Transfers[0].SHA256 != "" || set.Transfers[0].Bytes != 110 {
		t.Errorf("transfers %+v", set.Transfers)
	}
}

func TestFTPWithoutExpect(t *testing.T) {
	// An engine that does not track connections: the stream is done at login, as before.
	s, _, _ := session(t, login, false)
	if !s.Done() {
		t.Error("not done after login")
	}
}

func TestFTPTransferCap(t *testing.T) {
	lines := append([]msg{}, login...)
	for range MaxTransfers + 5 {
		lines = append(lines, S("227 Entering Passive Mode (10,20,0,60,195,80)\r\n"))
	}
	_, xs, _ := session(t, lines, true)
	if len(xs) != MaxTransfers {
		t.Errorf("%d expectations", len(xs))
	}
}

func FuzzFTPArgs(f *testing.F) {
	f.Add([]byte("10,20,0,60,195,80"), []byte("|2|::1|5000|"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		portArg(a)
		eprtArg(b)
		epsvArg(b)
		_, xs, _ := session(t, append(append([]msg{}, login...), S("227 "+string(a)+"\r\n"), S("229 ("+string(b)+")\r\n"),
			C("EPRT "+string(b)+"\r\n"), C("RETR "+string(a)+"\r\n")), true)
		for _, x := range xs {
			if !x.Listener.IsValid() || x.Listener.Port() == 0 {
				t.Fatalf("expectation %+v", x)
			}
		}
	})
}
