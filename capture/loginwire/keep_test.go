package loginwire

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// TestFTPKeep checks that an FTP download and the signature beside it are kept byte for
// byte, and that a listing is not.
func TestFTPKeep(t *testing.T) {
	k := updatekeep.New(updatekeep.Options{TempDir: t.TempDir()})
	defer k.Close()
	set := observe.NewSet()
	ctx := &dissect.Context{Flow: observe.Flow{Client: netip.MustParseAddrPort("10.20.3.50:50100"),
		Server: netip.MustParseAddrPort("10.20.0.60:21")}, Sink: set, Secrets: observe.NewSecretHasher(make([]byte, 32)), Keep: k}
	var xs []dissect.Expectation
	ctx.Expect = func(x dissect.Expectation) bool { xs = append(xs, x); return true }
	s := FTP.New(ctx).(*stream)
	img := append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte("firmware"), 20000)...)
	sig := []byte("-----BEGIN PGP SIGNATURE-----\n")
	for i, file := range []struct {
		cmd  string
		body []byte
	}{{"RETR fw/pump-3.img", img}, {"RETR fw/pump-3.img.sig", sig}, {"LIST", []byte("-rw pump-3.img\r\n")}} {
		for _, m := range append(append([]msg{}, login...), S("227 Entering Passive Mode (10,20,0,60,195,80)\r\n"), C(file.cmd+"\r\n")) {
			s.Data(m.dir, []byte(m.text), tx)
		}
		d := xs[i].New(&dissect.Context{Keep: k})
		d.Data(dissect.ServerToClient, file.body[:len(file.body)/2], tx)
		d.Data(dissect.ServerToClient, file.body[len(file.body)/2:], tx)
		d.End(tx.Add(time.Second))
	}
	s.End(tx.Add(2 * time.Second))
	files := k.Files()
	if len(files) != 2 {
		t.Fatalf("files %+v", files)
	}
	for i, want := range [][]byte{img, sig} {
		f := files[i]
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(b, want) || f.Origin != "ftp://10.20.0.60:21" || f.Dir != "fw" {
			t.Errorf("file %d: kept %d bytes as %+v", i, len(b), f)
		}
	}
	if files[0].Name != "{id}.img" || files[1].Name != "{id}.img.sig" {
		t.Errorf("names %q %q", files[0].Name, files[1].Name)
	}
}
