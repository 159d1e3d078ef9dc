package realsoft

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dovecotConf is a Dovecot 2.3 configuration for one bounded test instance: IMAP and
// POP3 with STARTTLS (STLS) on the loopback of the server's namespace, one user in a
// password file, everything under dir. Clear-text logins stay allowed so that a
// stripped session still logs in, as a server that does not insist on TLS lets it.
const dovecotConf = `base_dir = {{dir}}/run
state_dir = {{dir}}/state
log_path = /dev/stderr
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{{dir}}/server.crt
ssl_key = <{{dir}}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{{dir}}/mail/%u
first_valid_uid = 1
first_valid_gid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN {{dir}}/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home={{dir}}/home/%u
}
service imap-login {
  inet_listener imap {
    port = 2143
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 2110
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0666
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`

// mailClient reads mail over IMAP or POP3 (argv[1]) from argv[2], upgrading with
// STARTTLS / STLS when the server lists it, as opportunistic mail clients do.
const mailClient = `import imaplib, poplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if sys.argv[1] == "imap":
    m = imaplib.IMAP4(sys.argv[2], 143, timeout=10)
    if "STARTTLS" in m.capabilities:
        m.starttls(ssl_context=ctx)
    m.login("nurse", "Ward7-Secr3t")
    m.select("INBOX")
    m.logout()
else:
    p = poplib.POP3(sys.argv[2], 110, timeout=10)
    if "STLS" in p.capa():
        p.stls(context=ctx)
    p.user("nurse")
    p.pass_("Ward7-Secr3t")
    p.stat()
    p.quit()
`

// TestIMAPPOP3Stripped reads mail from two devices over IMAP and POP3 from a Dovecot
// server through its front (a relay in the server's namespace, standing for whatever
// sits on the path); in the attack the relay deletes STARTTLS from the IMAP capability
// lists and STLS from the POP3 CAPA answer for the second device, which then logs in in
// clear. tls-stripped must name the server on both ports; with the lists left alone it
// is quiet, and the capability lists were read.
func TestIMAPPOP3Stripped(t *testing.T) {
	for _, attack := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "stripped"}[attack], func(t *testing.T) {
			python := requireTool(t, "python3", "python3")
			dovecot := requireTool(t, "dovecot", "dovecot-imapd dovecot-pop3d")
			l := newLAN(t)
			l.host("mailsrv", macMW, "10.9.0.25/24")
			l.host("dev1", "02:00:5e:00:00:31", "10.9.0.31/24")
			l.host("dev2", "02:00:5e:00:00:32", "10.9.0.32/24")
			// Dovecot's login and mail processes run as its own users: they need a
			// directory they may enter, which a test's temporary one is not.
			dir, err := os.MkdirTemp("", "medscan-dovecot-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tlsFiles(t, dir)
			for _, sub := range []string{"mail", "home"} {
				if err := os.Mkdir(filepath.Join(dir, sub), 0o777); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(filepath.Join(dir, sub), 0o777); err != nil {
					t.Fatal(err)
				}
			}
			for name, src := range map[string]string{"dovecot.conf": strings.ReplaceAll(dovecotConf, "{{dir}}", dir),
				"passwd": "nurse:{PLAIN}Ward7-Secr3t::::::\n", "proxy.py": stripProxy, "client.py": mailClient} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l.capture("tcp port 143 or tcp port 110")
			srv := l.start("mailsrv", dovecot, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
			srv.WaitFor(t, "stderr", "starting up", 15*time.Second)
			args := []string{"-u", filepath.Join(dir, "proxy.py"), "10.9.0.25", "143:2143,110:2110"}
			if attack {
				args = append(args, "10.9.0.32")
			}
			proxy := l.start("mailsrv", python, args...)
			proxy.WaitFor(t, "stdout", "listening", 15*time.Second)
			for _, proto := range []string{"imap", "pop3"} {
				for _, c := range []string{"dev1", "dev2", "dev1"} {
					l.in(c, 30*time.Second, python, filepath.Join(dir, "client.py"), proto, "10.9.0.25")
				}
			}
			s := l.scan()
			got := s.rule("tls-stripped")
			if !attack {
				if len(got) > 0 {
					t.Fatalf("tls-stripped raised without an attack: %s", s.findingList())
				}
				protos := map[string]int{}
				for _, g := range s.StartTLSGreetings {
					if !g.Offered || g.Outcome != "upgraded" {
						t.Errorf("clean session read as %+v", g)
					}
					protos[g.Protocol] += g.Count
				}
				if protos["imap"] != 3 || protos["pop3"] != 3 {
					t.Fatalf("capability lists read: %v, want 3 IMAP and 3 POP3 sessions: the clean run proves nothing", protos)
				}
				if c := s.rule("cleartext-credentials"); len(c) > 0 {
					t.Errorf("cleartext-credentials without an attack: %s", s.findingList())
				}
				return
			}
			for _, port := range []int{143, 110} {
				f := s.finding(t, "tls-stripped", "10.9.0.25", port)
				proto := map[int]string{143: "IMAP", 110: "POP3"}[port]
				if !strings.HasPrefix(f.Message, proto+" server ") || !strings.Contains(f.Message, "not to 10.9.0.32") {
					t.Errorf("message %q does not name %s and the client that saw no STARTTLS", f.Message, proto)
				}
			}
			if len(got) != 2 {
				t.Errorf("tls-stripped: %d findings, want 2 (IMAP and POP3): %s", len(got), s.findingList())
			}
			// The stripped device logged in in clear: what the downgrade cost.
			if c := s.rule("cleartext-credentials"); len(c) == 0 {
				t.Errorf("no cleartext-credentials for the downgraded logins: %s", s.findingList())
			}
			if strings.Contains(string(s.json), "Ward7-Secr3t") || strings.Contains(string(s.store), "Ward7-Secr3t") {
				t.Error("the password is in the report or the store")
			}
		})
	}
}
