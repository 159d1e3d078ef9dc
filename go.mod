module github.com/medscan/medscan

go 1.26.8

// The module proxy available to this project refuses some recent versions (403 not available);
// these pins keep builds reproducible. publicsuffix-go is needed by zcrypto/zlint.
replace github.com/weppos/publicsuffix-go => github.com/weppos/publicsuffix-go v0.50.3

// pprof is reached by `go mod tidy` through modernc.org/sqlite's tests.
replace github.com/google/pprof => github.com/google/pprof v0.0.0-20250630185457-6e76a2b096b5

// Direct dependencies, and why each is here:
require (
	github.com/ProtonMail/go-crypto v1.5.2 // codesign: OpenPGP detached and clear-signed signatures and keys (the maintained fork of x/crypto/openpgp; v1.5.2 is the newest the proxy serves)
	github.com/google/gopacket v1.1.19 // design card: pcapgo for test-side capture decoding, layers for the fixture writer
	github.com/jackc/pgx/v5 v5.13.0 // issue 16: PostgreSQL as a central store, through its database/sql driver (stdlib); the newest the proxy serves
	github.com/olekukonko/tablewriter v1.1.5 // design card: the terminal report
	github.com/owenrumney/go-sarif/v2 v2.3.3 // SARIF 2.1.0 documents without hand-written structs
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // FFT multiplication for batch GCD (already in the graph through modernc)
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // tests: validate JSON and SARIF output against their schemas
	github.com/smallstep/pkcs7 v0.2.3 // codesign: CMS/PKCS #7 SignedData parsing (BER too) for detached CMS and Authenticode; maintained fork of mozilla/pkcs7; verification is done in codesign so that MD5/SHA-1 and streamed content are handled
	github.com/spf13/cobra v1.10.2 // the CLI's commands: help, suggestions, shell completion and man pages from one definition
	github.com/spf13/pflag v1.0.10 // GNU-style flags (--pcap, -o) for the CLI
	github.com/zmap/zcrypto v0.0.0-20260906180147-3ed30b1e9340 // design card: lenient X.509 parsing of the certificates real devices send; TLS handshakes crypto/tls refuses, in the prober
	github.com/zmap/zlint/v3 v3.7.3 // design card: certificate lints by role (package lint)
	golang.org/x/crypto v0.55.0 // cryptobyte: the DER reader that recovers facts from certificates no parser accepts
	golang.org/x/net v0.58.0 // classic BPF programs (capture/bpf) and their VM in tests
	golang.org/x/sys v0.49.0 // AF_PACKET sockets for live capture without libpcap
	gopkg.in/yaml.v3 v3.0.1 // policy files, with unknown keys reported by line
	modernc.org/sqlite v1.61.1 // design card: the store, without cgo
)

require (
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/clipperhouse/displaywidth v0.10.0 // indirect
	github.com/clipperhouse/uax29/v2 v2.6.0 // indirect
	github.com/cloudflare/circl v1.6.3 // indirect
	github.com/cpuguy83/go-md2man/v2 v2.0.6 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/fatih/color v1.18.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/mattn/go-runewidth v0.0.19 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/olekukonko/cat v0.0.0-20250911104152-50322a0618f6 // indirect
	github.com/olekukonko/errors v1.2.0 // indirect
	github.com/olekukonko/ll v0.1.6 // indirect
	github.com/pelletier/go-toml v1.9.5 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/weppos/publicsuffix-go v0.50.4-0.20260821095816-b0fdb5c2d345 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	modernc.org/libc v1.79.0 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
