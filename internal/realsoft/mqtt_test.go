package realsoft

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
)

// The credentials a telemetry gateway uses to publish to the broker.
const (
	mqttUser     = "pumpgw"
	mqttPassword = "Pump-S3cret-7741"
)

// TestMosquitto captures mosquitto_pub publishing with a user name and password to a
// mosquitto broker that requires them, and requires medscan to report the CONNECT, the
// mqtt-password credential and cleartext-credentials, never the password.
func TestMosquitto(t *testing.T) {
	t.Parallel()
	broker := requireTool(t, "mosquitto", "mosquitto")
	pub := requireTool(t, "mosquitto_pub", "mosquitto-clients")
	passwd := requireTool(t, "mosquitto_passwd", "mosquitto")
	dir := t.TempDir()
	pwfile := filepath.Join(dir, "passwords")
	run(t, 15*time.Second, nil, passwd, "-b", "-c", pwfile, mqttUser, mqttPassword)

	port := freePort(t)
	conf := []string{
		fmt.Sprintf("listener %d 127.0.0.1", port),
		"allow_anonymous false",
		"password_file " + pwfile,
		"persistence false",
		"log_dest stderr",
		"log_type all",
	}
	if os.Geteuid() == 0 {
		// Run as root, mosquitto switches to the user "mosquitto", who may not read the
		// test's private temporary directory; "user root" keeps it as it is.
		conf = append(conf, "user root")
	}
	confFile := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testproc.Start(t, broker, "-c", confFile)
	srv.WaitFor(t, "stderr", " running", 15*time.Second)

	c := startCapture(t, port)
	run(t, 15*time.Second, nil, pub, "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-i", "infusion-gw-1",
		"-u", mqttUser, "-P", mqttPassword, "-t", "ward7/pump/12/rate", "-m", "5.0")
	pcap := c.stop(t)
	if !srv.Contains("stderr", "u'"+mqttUser+"'") {
		t.Fatalf("the broker did not log %s connecting: %s", mqttUser, srv.Output())
	}

	s := scan(t, c.path)
	i := slices.IndexFunc(s.MQTT, func(m findings.MQTTConnect) bool { return m.Host == "127.0.0.1" && m.Port == port })
	if i < 0 {
		t.Fatalf("no mqtt[] CONNECT on 127.0.0.1:%d; medscan has %+v", port, s.MQTT)
	}
	if m := s.MQTT[i]; m.Client != "127.0.0.1" || !m.HasUsername || !m.HasPassword || m.Username != mqttUser || m.ClientID != "infusion-gw-1" {
		t.Errorf("mqtt[]: client %s, id %q, user %q (has %v), has_password %v; want 127.0.0.1, infusion-gw-1, %s, true, true",
			m.Client, m.ClientID, m.Username, m.HasUsername, m.HasPassword, mqttUser)
	}
	if v := s.service(t, "127.0.0.1", port); v.Protocol != "mqtt" {
		t.Errorf("service on %d: protocol %q, want mqtt", port, v.Protocol)
	}
	wantCredential(t, s, port, "mqtt-password", mqttUser)
	s.finding(t, "cleartext-credentials", "127.0.0.1", port)
	s.private(t, pcap, mqttPassword)
}

// wantCredential requires a credentials[] entry of kind, sent by 127.0.0.1 to
// 127.0.0.1:port, with user ("" for a secret without one), a masked preview and a hash.
func wantCredential(t *testing.T, s *scanned, port int, kind, user string) {
	t.Helper()
	i := slices.IndexFunc(s.Credentials, func(c findings.Credential) bool { return c.Kind == kind && c.Port == port })
	if i < 0 {
		t.Errorf("no %s credential on port %d; medscan has %+v", kind, port, s.Credentials)
		return
	}
	c := s.Credentials[i]
	if c.Client != "127.0.0.1" || c.Host != "127.0.0.1" || c.User != user || c.Preview == "" || c.Hash == "" {
		t.Errorf("%s credential: client %s, host %s, user %q, preview %q, hash %q; want 127.0.0.1 → 127.0.0.1, user %q, a preview and a hash",
			kind, c.Client, c.Host, c.User, c.Preview, c.Hash, user)
	}
}
