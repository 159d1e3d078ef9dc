package linttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fleetVersion names the shape of the generated fleet; change it whenever Fleet's output
// changes, so that a cached folder of the old shape is not reused.
const fleetVersion = "v1"

// fleetKinds are the devices of a fleet, in turn: what they are called, the unit of the
// hospital that runs them and their maker, as a device PKI names them.
var fleetKinds = []struct{ prefix, unit, maker string }{
	{"INF-PUMP", "Infusion", "Example Infusion Systems"},
	{"MON", "Patient Monitoring", "Example Monitoring"},
	{"VENT", "Critical Care", "Example Respiratory"},
	{"GLU", "Point of Care", "Example Diagnostics"},
	{"US", "Imaging", "Example Imaging"},
}

// Fleet returns a folder of n device certificates issued by one private CA, as a
// hospital's device PKI exports them: one PEM file per device holding its certificate
// and, for every other device, the CA's after it (so the CA certificate is repeated
// across files, as chains repeat it), and the CA alone in ca.pem. The CA has a P-256 key
// (generated once per fleet) and signs with ECDSA-SHA256; one device in three has an RSA
// 2048 key, the others P-256, each its own; subjects carry a device name, the unit and
// the maker, with a DNS name in a private zone and an address in 10.0.0.0/8; devices are
// valid ten or fifteen years, for client and server authentication.
//
// Generating RSA keys is slow (a minute for a thousand on two cores), so the folder is
// kept under the system's temporary directory, named by n and the fleet's version, and
// reused by later runs; a folder without its completion mark is generated again.
func Fleet(tb testing.TB, n int) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("medscan-lint-fleet-%s-%d", fleetVersion, n))
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	notBefore := time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject: pkix.Name{CommonName: "Example Hospital Device Issuing CA", OrganizationalUnit: []string{"Clinical Engineering"},
			Organization: []string{"Example Hospital"}, Country: []string{"GB"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(25, 0, 0),
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), caPEM, 0o644); err != nil {
		tb.Fatal(err)
	}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
		next = make(chan int)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				if err := writeDevice(dir, i, ca, caKey, caPEM, notBefore); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if ferr != nil {
		tb.Fatal(ferr)
	}
	if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// writeDevice issues the i-th device's certificate and writes its file.
func writeDevice(dir string, i int, ca *x509.Certificate, caKey crypto.Signer, caPEM []byte, notBefore time.Time) error {
	kind := fleetKinds[i%len(fleetKinds)]
	var key crypto.Signer
	var err error
	if i%3 == 0 {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%06d", kind.prefix, i)
	years := 10
	if i%2 == 1 {
		years = 15
	}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).Lsh(big.NewInt(int64(i)+1000), 64),
		Subject: pkix.Name{CommonName: name, SerialNumber: fmt.Sprintf("SN%08d", 70000000+i),
			OrganizationalUnit: []string{kind.unit}, Organization: []string{kind.maker}, Country: []string{"GB"}},
		NotBefore:             notBefore.AddDate(0, 0, i%365),
		NotAfter:              notBefore.AddDate(years, 0, i%365),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{fmt.Sprintf("%s.devices.example-hospital.internal", name)},
		IPAddresses:           []net.IP{net.IPv4(10, byte(20+i>>16), byte(i>>8), byte(i))},
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if i%2 == 0 {
		out = append(out, caPEM...)
	}
	return os.WriteFile(filepath.Join(dir, name+".pem"), out, 0o644)
}
