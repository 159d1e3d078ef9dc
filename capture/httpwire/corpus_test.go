package httpwire

import (
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/internal/corpustest"
)

func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		file    string
		secrets []string
		user    string
	}{
		{"zeek-http-basic-auth.pcap", []string{"dGVzdDoxOjM0"}, "test"},
		{"suricata-http-bearer.pcap", []string{"mF_9.B5f-4.1JqM"}, ""},
		{"ndpi-http-auth.pcap", []string{"dGVzdDpmYWlsMg==", "fail2"}, "test"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := corpustest.Expected(t, tc.file)
			if len(want.HTTPAuth) == 0 {
				t.Fatalf("oracle lists no HTTP auth for %s", tc.file)
			}
			var all []*corpustest.Harness
			for _, st := range corpustest.TCPStreams(t, tc.file) {
				if m := Detect(st.ClientBytes); m.Verdict != 2 || m.FromServer {
					continue
				}
				if m := Detect(st.ServerBytes); len(st.ServerBytes) > 0 && (m.Verdict != 2 || !m.FromServer) {
					t.Errorf("%v: server side not detected: %+v", st.Server, m)
				}
				h := corpustest.NewHarness(st.Flow())
				corpustest.Replay(New(h.Ctx), st)
				h.Sink.NoSecret(t, tc.secrets...)
				all = append(all, h)
			}
			for _, w := range want.HTTPAuth {
				found := false
				for _, h := range all {
					for _, r := range h.Sink.HTTP {
						server := r.Flow.Server.Addr().String() + ":" + strconv.Itoa(int(r.Flow.Server.Port()))
						if r.AuthScheme == w.Scheme && server == w.Server && r.Status != 0 {
							found = true
						}
					}
					for _, c := range h.Sink.Credentials {
						if c.Kind != "http-"+strings.ToLower(w.Scheme) || c.User != tc.user || c.Where != "Authorization" {
							t.Errorf("credential = %+v", c)
						}
					}
				}
				if !found {
					t.Errorf("no %s request with a response to %s", w.Scheme, w.Server)
				}
			}
			for _, h := range all {
				if len(h.Sink.Credentials) == 0 {
					t.Errorf("no credential emitted: %s", h.Sink.Dump())
				}
				for _, c := range h.Sink.Credentials {
					if c.Kind == "url-secret" && len(want.HTTPSecretURLs) == 0 {
						t.Errorf("url secret the oracle does not see: %+v", c)
					}
				}
			}
		})
	}
}
