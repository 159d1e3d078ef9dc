// Command soakload is the traffic of scripts/live-soak.sh: a steady stream of clinical-
// looking HTTP requests with Basic credentials in clear, and HTTPS requests to a
// self-signed server, between two network namespaces, for as long as a live capture is
// to be watched for memory growth.
//
//	soakload serve -addr 10.203.0.1              # HTTP on :8080, HTTPS on :8443
//	soakload client -addr 10.203.0.1 -rate 200 -duration 10m30s
//
// Every request opens a new connection (new client port, new flow), so flows are
// created and expire all the time, while the set of request shapes stays bounded
// (-paths): what a scan keeps must then stay flat, whatever the duration. The client
// stops at -duration; the server stops at -duration too (default one day), so that
// nothing it starts runs unbounded.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: soakload serve|client [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1", "server address")
	rate := fs.Int("rate", 200, "requests per second (client)")
	dur := fs.Duration("duration", 24*time.Hour, "how long to run")
	paths := fs.Int("paths", 200, "distinct request paths (client)")
	fs.Parse(os.Args[2:])
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, *addr)
	case "client":
		err = client(ctx, *addr, *rate, *paths)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soakload:", err)
		os.Exit(1)
	}
}

func handler(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "nurse" || p != "ward7-pass" {
		w.Header().Set("WWW-Authenticate", `Basic realm="ward"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"device":"pump-%d","status":"ok"}`, len(r.URL.Path))
}

func serve(ctx context.Context, addr string) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	plain := &http.Server{Addr: net.JoinHostPort(addr, "8080"), Handler: http.HandlerFunc(handler)}
	secure := &http.Server{Addr: net.JoinHostPort(addr, "8443"), Handler: http.HandlerFunc(handler),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12}}
	errs := make(chan error, 2)
	go func() { errs <- plain.ListenAndServe() }()
	go func() { errs <- secure.ListenAndServeTLS("", "") }()
	select {
	case <-ctx.Done():
	case err := <-errs:
		return err
	}
	plain.Close()
	secure.Close()
	return nil
}

// selfSigned makes the HTTPS server's certificate: self-signed, as many devices' are.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pump-gw.ward7.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"pump-gw.ward7.example"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func client(ctx context.Context, addr string, rate, paths int) error {
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true,
		ServerName: "pump-gw.ward7.example"}}
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	jobs := make(chan int)
	var ok, failed, skipped atomic.Uint64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				scheme, port := "http", "8080"
				if i%10 == 0 {
					scheme, port = "https", "8443"
				}
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s://%s/ward7/pump/%d", scheme, net.JoinHostPort(addr, port), i%paths), nil)
				req.SetBasicAuth("nurse", "ward7-pass")
				resp, err := cl.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok.Add(1)
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
	defer tick.Stop()
	report := time.NewTicker(time.Minute)
	defer report.Stop()
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			fmt.Printf("soakload: %s: %d requests done, %d failed, %d skipped (workers busy)\n",
				time.Since(start).Round(time.Second), ok.Load(), failed.Load(), skipped.Load())
			return nil
		case <-report.C:
			fmt.Printf("soakload: %s: %d requests done, %d failed\n", time.Since(start).Round(time.Second), ok.Load(), failed.Load())
		case <-tick.C:
			select {
			case jobs <- i:
			default:
				skipped.Add(1)
			}
		}
	}
}
