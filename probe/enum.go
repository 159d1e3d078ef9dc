package probe

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/medscan/medscan/capture/tlswire"
	"github.com/medscan/medscan/observe"
)

// defaultHandshakeTimeout bounds a probe when the caller gave no handshake timeout, so
// that a device that accepts and never answers cannot hold the prober forever.
const defaultHandshakeTimeout = 10 * time.Second

// maxEnumTimeouts is how many probes may time out during enumeration before the prober
// stops asking that port anything more: a device that hangs on some hellos is better
// left alone than tried with every one.
const maxEnumTimeouts = 2

// EnumerateTLS learns what the TLS service at t.Server accepts, as far as profile p
// asks, talking to it only through d (one connection at a time, each closed before the
// next Dial) and waiting on it no longer than to allows. It always returns a result:
// a port that is closed, silent, resetting or not TLS gets the matching outcome.
func EnumerateTLS(ctx context.Context, d Dialer, t TLSTarget, p Profile, to Timeouts) TLSResult {
	e := &enumerator{
		ctx: ctx, d: d, t: t, to: to,
		known: map[uint16][]uint16{}, order: map[uint16][]uint16{}, pref: map[uint16]bool{}, window0: map[uint16][]uint16{},
		groups: map[uint16]bool{}, hsIdx: map[[2]uint32]int{},
	}
	e.run(p)
	return e.res
}

// enumerator holds one port's enumeration state.
type enumerator struct {
	ctx context.Context
	d   Dialer
	t   TLSTarget
	to  Timeouts
	res TLSResult

	known map[uint16][]uint16 // version -> every suite seen accepted, in the order seen
	order map[uint16][]uint16 // version -> suites in the order enumeration found them
	pref  map[uint16]bool     // version -> the server chooses by its own order
	// window0 is each version's first offer: the server chose each suite of it over
	// every suite of it still undecided, so their order of discovery is its order.
	window0 map[uint16][]uint16
	kinds   []uint32 // SSLv2 cipher kinds
	groups  map[uint16]bool
	dhBits  int
	hsIdx   map[[2]uint32]int // (version, suite or kind) -> index in res.Handshakes

	first    fullHS // the full handshake that succeeded (or the last one tried)
	firstOK  bool
	timeouts int
	stopped  bool // a timeout budget, a failed connect or the context ended enumeration
	// cut is what stopped the enumeration before the profile's end, other than the
	// context: a failed connect (the host backed off or capped) or the timeout budget.
	cut error

	sawReneg, secureReneg bool // a TLS <= 1.2 ServerHello answered a hello with renegotiation_info
}

func (e *enumerator) run(p Profile) {
	if !e.fullHandshakes() {
		return
	}
	if p == ProfileStandard || p == ProfileThorough {
		e.enumerate()
	}
	if p == ProfileThorough && len(e.res.Handshakes) > 0 {
		e.thorough()
	}
	e.finish()
	if e.cut != nil && len(e.res.NotAssessed) > 0 {
		e.res.Cut = e.cut
		// What a later comparison may conclude from this port is what it completed.
		e.res.Completed = ProfileInventory
		if p == ProfileThorough && !slices.ContainsFunc(e.res.NotAssessed, isStandardCheck) {
			e.res.Completed = ProfileStandard
		}
	}
}

// The checks of the standard profile, by the names TLSResult.NotAssessed gives them.
var standardChecks = []string{"suites", "SSLv2", "server preference", "groups"}

func isStandardCheck(name string) bool { return slices.Contains(standardChecks, name) }

// step runs one check of the profile unless the enumeration has stopped, and records the
// check as not assessed when a cut stopped it before or during the check.
func (e *enumerator) step(name string, f func()) {
	if !e.stopped {
		f()
	}
	e.unassessed(name)
}

// unassessed records check name as not assessed if a cut has stopped the enumeration.
func (e *enumerator) unassessed(name string) {
	if e.stopped && e.cut != nil && !slices.Contains(e.res.NotAssessed, name) {
		e.res.NotAssessed = append(e.res.NotAssessed, name)
	}
}

// fullHandshakes makes the first connection(s); false when the port turned out closed,
// silent, resetting or not TLS, and nothing more is to be asked.
func (e *enumerator) fullHandshakes() bool {
	f, err := e.fullWith(false, versionTLS13)
	if err != nil {
		e.fail(dialOutcome(err), err)
		return false
	}
	if e.absorbFull(f) {
		return true
	}
	fl := parseFlight(f.rec)
	out := failOutcome(f.err, fl)
	if out == observe.ProbeNotTLS {
		e.res.Reply = slices.Clone(f.rec[:min(len(f.rec), maxReply)])
	}
	// A refusal (an alert, or a close before any byte) may only mean that no suite
	// crypto/tls implements is acceptable: zcrypto offers the legacy ones.
	if out == observe.ProbeHandshakeFailure || (out == observe.ProbeReset && len(f.rec) == 0) {
		fz, err := e.fullWith(true, versionTLS12)
		if err == nil && e.absorbFull(fz) {
			return true
		}
		if err == nil && fz.err != nil && out == observe.ProbeReset {
			out, f.err = failOutcome(fz.err, parseFlight(fz.rec)), fz.err
		}
	}
	e.fail(out, f.err)
	// A server that refused every suite of both clients may still accept one that
	// neither implements (export, GOST, PSK...): enumeration finds those.
	return out == observe.ProbeHandshakeFailure && e.ctx.Err() == nil
}

// fullWith dials and makes one full handshake, with zcrypto (offering up to maxVersion)
// when z is true.
func (e *enumerator) fullWith(z bool, maxVersion uint16) (fullHS, error) {
	conn, err := e.dial()
	if err != nil {
		return fullHS{}, err
	}
	defer conn.Close()
	ctx, cancel := deadlineCtx(e.ctx, e.to)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(e.handshakeTimeout()))
	var f fullHS
	if z {
		f = e.handshakeZ(conn, maxVersion)
	} else {
		f = e.handshakeStd(ctx, conn)
	}
	f.local = conn.LocalAddr()
	return f, nil
}

// absorbFull records a full handshake that reached a ServerHello; false when it did not.
func (e *enumerator) absorbFull(f fullHS) bool {
	fl := parseFlight(f.rec)
	if !fl.hello || fl.version == versionSSL2 {
		return false
	}
	sess, chain, ok := dissectServer(f.rec, e.flow(f.local), time.Now())
	if !ok {
		return false
	}
	if len(chain) == 0 {
		chain = f.chain // TLS 1.3: the chain arrived encrypted, the TLS client read it
	}
	if f.certReq {
		sess.CertRequest = true
		if len(sess.CertRequestCAs) == 0 {
			sess.CertRequestCAs = f.cas
		}
	}
	if sess.ECDHCurve == 0 && f.curve != 0 {
		sess.ECDHCurve = f.curve
	}
	if sess.OCSPStaple == nil && len(f.staple) > 0 {
		// TLS 1.3 staples inside the encrypted Certificate message: the TLS client
		// read it, and the passive path's reader reads it.
		sess.OCSPStaple = tlswire.ReadStaple(f.staple, chain)
	}
	// The handshake asked for a staple (status_request): whether one came is known in
	// every profile, and a server that does not staple is recorded as such.
	switch {
	case f.ocsp > 0 || sess.OCSPStaple != nil:
		e.res.Profile.OCSPStapling = "yes"
	case f.ocsp < 0:
		e.res.Profile.OCSPStapling = "no"
	}
	e.first, e.firstOK = f, true
	// The one handshake an ordinary client makes: what the service negotiates, as
	// opposed to what enumeration later finds it merely accepts.
	e.res.Profile.NegotiatedVersion, e.res.Profile.NegotiatedSuite = sess.Version, sess.Suite
	e.first.chain = chain
	if sess.Version == versionTLS13 {
		e.first.certReq = sess.CertRequest
		e.first.cas = sess.CertRequestCAs
	}
	e.res.Profile.CertRequired = f.required
	e.addHandshake(sess, chain)
	e.res.Outcome, e.res.Err = observe.ProbeTLS, nil
	return true
}

func (e *enumerator) fail(out observe.ProbeOutcome, err error) {
	e.res.Outcome, e.res.Err = out, err
}

// enumerate finds every accepted version and suite, the server's preference, its key
// exchange groups and DH size.
func (e *enumerator) enumerate() {
	versions := []uint16{versionTLS13, versionTLS12, versionTLS11, versionTLS10, versionSSL3}
	e.step("suites", func() {
		for _, v := range versions {
			e.suites(v)
		}
	})
	e.step("SSLv2", e.sslv2)
	e.step("server preference", func() {
		for _, v := range versions {
			e.preference(v)
		}
	})
	e.step("groups", func() {
		e.groups13()
		e.groups12()
	})
}

// suites enumerates version v's suites: offer up to maxHelloSuites of those not yet
// decided, drop the one the server picks, and drop the whole offer when it refuses.
func (e *enumerator) suites(v uint16) {
	pending := slices.Clone(suitesFor(v))
	e.window0[v] = slices.Clone(pending[:min(len(pending), maxHelloSuites)])
	for len(pending) > 0 && !e.stopped {
		offer := pending[:min(len(pending), maxHelloSuites)]
		h := e.helloFor(v, offer)
		fl, _, err := e.probe(h)
		switch {
		case fl.hello && fl.version == v && slices.Contains(offer, fl.suite):
			e.order[v] = appendNew(e.order[v], fl.suite)
			if v == versionTLS13 && fl.group != 0 {
				e.groups[fl.group] = true
			}
			pending = slices.DeleteFunc(pending, func(s uint16) bool { return s == fl.suite })
		case fl.hello:
			// A lower version than offered (v is not supported; the answer was recorded
			// as a handshake of its own version), or an answer outside the offer.
			return
		case fl.alert == 70: // protocol_version
			return
		case err != nil && isTimeout(err):
			return
		default:
			pending = pending[len(offer):]
		}
	}
}

// helloFor builds the hello that offers suites at version v.
func (e *enumerator) helloFor(v uint16, suites []uint16) hello {
	h := hello{version: v, suites: suites, sni: sniName(e.t.Name)}
	switch v {
	case versionTLS13:
		h.groups, h.keyShare = helloGroups13, true
	case versionSSL3:
	default:
		h.groups = helloGroups12
	}
	return h
}

// preference tests whether the server chooses by its own order: offer the two suites
// it chose first, in the other order. The server that keeps its choice has an order.
func (e *enumerator) preference(v uint16) {
	o := e.order[v]
	if len(o) < 2 || e.stopped {
		return
	}
	// Servers that prioritise ChaCha20 (OpenSSL's option, crypto/tls's default) keep
	// their own order except when the client lists ChaCha20 first; two suites of the same
	// family keep that exception out of the test.
	second := o[1]
	for _, s := range o[1:] {
		if isChaCha(s) == isChaCha(o[0]) {
			second = s
			break
		}
	}
	fl, _, _ := e.probe(e.helloFor(v, []uint16{second, o[0]}))
	if fl.hello && fl.version == v {
		e.pref[v] = fl.suite == o[0]
	}
	if e.pref[v] {
		e.reorder(v)
	}
}

// reorder puts the suites found outside the first offer into the server's order. Such
// a suite was not on offer when the server chose some of those found before it, so its
// place among them is found by asking: a binary search whose every comparison offers
// the two suites and sees which the server picks.
func (e *enumerator) reorder(v uint16) {
	var sorted []uint16
	for _, s := range e.order[v] {
		if slices.Contains(e.window0[v], s) {
			// Chosen while every undecided suite of the first offer was on offer, and
			// after every suite found before it: it ranks below all of them.
			sorted = append(sorted, s)
			continue
		}
		lo, hi := 0, len(sorted)
		for lo < hi && !e.stopped {
			mid := (lo + hi) / 2
			fl, _, _ := e.probe(e.helloFor(v, []uint16{sorted[mid], s}))
			if !fl.hello || fl.version != v {
				return // keep the order of discovery rather than guess
			}
			if fl.suite == s {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		sorted = slices.Insert(sorted, lo, s)
	}
	e.order[v] = sorted
}

// sslv2 asks once with every SSLv2 cipher kind; the SERVER-HELLO lists those shared.
func (e *enumerator) sslv2() {
	if e.stopped {
		return
	}
	fl, _, _ := e.send(sslv2Hello(), nil)
	if fl.version != versionSSL2 {
		return
	}
	for _, k := range fl.sslv2Kinds {
		if !slices.Contains(e.kinds, k) {
			e.kinds = append(e.kinds, k)
		}
	}
}

// groups13 finds the TLS 1.3 groups: offer the groups not yet found without a key share,
// so that the server names its choice in a HelloRetryRequest, and drop it.
func (e *enumerator) groups13() {
	suites := e.known[versionTLS13]
	if len(suites) == 0 {
		return
	}
	pending := slices.DeleteFunc(slices.Clone(allGroups13), func(g uint16) bool { return e.groups[g] })
	for len(pending) > 0 && !e.stopped {
		h := hello{version: versionTLS13, suites: suites, groups: pending, sni: sniName(e.t.Name)}
		fl, _, _ := e.probe(h)
		if !fl.hello || fl.version != versionTLS13 || !slices.Contains(pending, fl.group) {
			return
		}
		e.groups[fl.group] = true
		pending = slices.DeleteFunc(pending, func(g uint16) bool { return g == fl.group })
	}
}

// groups12 finds the curves of ECDHE suites at the highest TLS <= 1.2 version that
// accepts one: the ServerKeyExchange names the curve the server chose.
func (e *enumerator) groups12() {
	for _, v := range []uint16{versionTLS12, versionTLS11, versionTLS10} {
		var ecdhe []uint16
		for _, s := range e.known[v] {
			if info, _ := observe.Suite(s); info.KeyExchange == "ECDHE" && len(ecdhe) < maxHelloSuites {
				ecdhe = append(ecdhe, s)
			}
		}
		if len(ecdhe) == 0 {
			continue
		}
		pending := slices.Clone(allGroups12)
		for len(pending) > 0 && !e.stopped {
			h := hello{version: v, suites: ecdhe, groups: pending, sni: sniName(e.t.Name)}
			fl, sess, _ := e.probe(h)
			if !fl.hello || !slices.Contains(pending, sess.ECDHCurve) {
				return
			}
			e.groups[sess.ECDHCurve] = true
			pending = slices.DeleteFunc(pending, func(g uint16) bool { return g == sess.ECDHCurve })
		}
		return
	}
}

// thorough adds renegotiation, compression, OCSP stapling, ticket lifetime and
// TLS_FALLBACK_SCSV.
func (e *enumerator) thorough() {
	p := &e.res.Profile
	best := e.best12()
	ocspTested, ocsp := false, false
	if e.firstOK && e.first.ocsp != 0 {
		ocspTested, ocsp = true, e.first.ocsp > 0
	}
	switch {
	case e.sawReneg && e.secureReneg:
		p.Renegotiation = "secure"
	case e.sawReneg:
		p.Renegotiation = "insecure"
	case best == 0 && len(e.known[versionTLS13]) > 0:
		p.Renegotiation = "refused" // TLS 1.3 only: there is no renegotiation
	}
	if p.Renegotiation == "" {
		e.unassessed("renegotiation") // learned from the suites' ServerHellos, which the cut may have kept away
	}
	if best == 0 {
		if len(e.known[versionTLS13]) > 0 {
			p.Compression = "none" // TLS 1.3 has no compression
		}
	} else {
		e.step("compression", func() {
			s := e.known[best]
			h := e.helloFor(best, s[:min(len(s), maxHelloSuites)])
			h.deflate, h.statusRequest = true, true
			if fl, _, _ := e.probe(h); fl.hello {
				p.Compression = "none"
				if fl.compress == 1 {
					p.Compression = "deflate"
				} else if fl.compress != 0 {
					p.Compression = hex8(fl.compress)
				}
				ocspTested, ocsp = true, ocsp || fl.ocsp
			}
		})
	}
	if !ocspTested {
		e.unassessed("OCSP stapling")
	}
	if ocspTested {
		if ocsp || p.OCSPStapling == "yes" {
			p.OCSPStapling = "yes"
		} else {
			p.OCSPStapling = "no"
		}
	}
	if best != 0 {
		e.step("tickets", func() {
			if e.firstOK && e.first.ticket != 0 {
				p.TicketLifetime = e.first.ticket
			} else if f, err := e.fullWith(true, best); err == nil {
				p.TicketLifetime = f.ticket
			}
		})
	}
	e.step("fallback SCSV", e.fallback)
}

// fallback offers the second-highest accepted version with TLS_FALLBACK_SCSV: a server
// that knows better answers inappropriate_fallback (86).
func (e *enumerator) fallback() {
	var vs []uint16
	for _, v := range []uint16{versionTLS13, versionTLS12, versionTLS11, versionTLS10, versionSSL3} {
		if len(e.known[v]) > 0 {
			vs = append(vs, v)
		}
	}
	if len(vs) < 2 || e.stopped {
		return
	}
	low := vs[1]
	s := e.known[low]
	suites := append(slices.Clone(s[:min(len(s), maxHelloSuites-1)]), suiteFallbackSCSV)
	fl, _, _ := e.probe(e.helloFor(low, suites))
	switch {
	case fl.alert == 86:
		e.res.Profile.FallbackSCSV = "yes"
	case fl.hello:
		e.res.Profile.FallbackSCSV = "no"
	}
}

// best12 is the highest accepted version below TLS 1.3 (SSLv2 aside), 0 when none.
func (e *enumerator) best12() uint16 {
	for _, v := range []uint16{versionTLS12, versionTLS11, versionTLS10, versionSSL3} {
		if len(e.known[v]) > 0 {
			return v
		}
	}
	return 0
}

// probe makes one connection, sends hello h in one Write and reads the server's first
// flight. Every ServerHello that chose one of the suites h offers becomes a handshake
// of the result.
func (e *enumerator) probe(h hello) (flight, observe.TLSSession, error) {
	fl, sess, err := e.send(h.build(), func(s uint16) bool { return slices.Contains(h.suites, s) })
	return fl, sess, err
}

// send is probe for a hello already encoded; offered says whether a suite was offered.
func (e *enumerator) send(h []byte, offered func(uint16) bool) (flight, observe.TLSSession, error) {
	fl := flight{alert: -1}
	if e.ctx.Err() != nil {
		e.stopped = true
		return fl, observe.TLSSession{}, e.ctx.Err()
	}
	conn, err := e.dial()
	if err != nil {
		if isTimeout(err) {
			e.timedOut()
		}
		// A port that stops taking connections in the middle of enumeration (refused, the
		// host backed off or capped, a connect timing out) is asked nothing more: a
		// service that went away under the scan must not be knocked on again and again.
		e.stopped = true
		return fl, observe.TLSSession{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(e.ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(e.handshakeTimeout()))
	if _, err = conn.Write(h); err != nil {
		return fl, observe.TLSSession{}, err
	}
	buf := make([]byte, 0, 8<<10)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), maxFlight-len(buf)))
		}
		var n int
		n, err = conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		fl = parseFlight(buf)
		if fl.complete || err != nil || len(buf) >= maxFlight {
			break
		}
	}
	if err != nil && isTimeout(err) && !fl.complete {
		e.res.Timeouts++
		e.timedOut()
	}
	var sess observe.TLSSession
	if fl.version == versionSSL2 {
		sess, chain, _ := dissectServer(buf, e.flow(conn.LocalAddr()), time.Now())
		for _, k := range fl.sslv2Kinds {
			s := sess
			s.SSLv2Cipher = k
			e.addHandshake(s, chain)
		}
		return fl, sess, err
	}
	if fl.hello && offered != nil && offered(fl.suite) {
		// A HelloRetryRequest accepts a suite as surely as a ServerHello does.
		var chain [][]byte
		var ok bool
		if sess, chain, ok = dissectServer(buf, e.flow(conn.LocalAddr()), time.Now()); ok {
			e.addHandshake(sess, chain)
		}
	}
	if fl.hello && fl.version >= versionTLS10 && fl.version <= versionTLS12 && len(h) > 5 && h[0] == 22 {
		e.sawReneg = true
		e.secureReneg = e.secureReneg || fl.secureReneg
	}
	if fl.complete && !fl.hello {
		err = nil // a refusal is an answer, not a failure
	}
	return fl, sess, err
}

// addHandshake records an accepted (version, suite) and, the first time, its handshake.
func (e *enumerator) addHandshake(s observe.TLSSession, chain [][]byte) {
	s.Source = observe.SourceActive
	s.SNI = e.t.Name
	s.CertsEncrypted = false
	if s.Version == versionTLS13 && len(chain) == 0 {
		s.CertsEncrypted = true // completed by finish with the full handshake's chain
	}
	if s.DHBits > 0 && (e.dhBits == 0 || s.DHBits < e.dhBits) {
		e.dhBits = s.DHBits
	}
	if s.ECDHCurve != 0 && (s.Version == versionTLS13 || isECDHE(s.Suite)) {
		e.groups[s.ECDHCurve] = true
	}
	key := [2]uint32{uint32(s.Version), uint32(s.Suite)}
	if s.Version == versionSSL2 {
		key[1] = s.SSLv2Cipher
		if !slices.Contains(e.kinds, s.SSLv2Cipher) {
			e.kinds = append(e.kinds, s.SSLv2Cipher)
		}
		s.Suite = 0
	} else {
		e.known[s.Version] = appendNew(e.known[s.Version], s.Suite)
	}
	s.ServerChain = refsOf(chain)
	if i, ok := e.hsIdx[key]; ok {
		if len(e.res.Handshakes[i].ServerChain) == 0 && len(chain) > 0 {
			e.res.Handshakes[i] = Handshake{Session: s, ServerChain: chain}
		}
		return
	}
	e.hsIdx[key] = len(e.res.Handshakes)
	e.res.Handshakes = append(e.res.Handshakes, Handshake{Session: s, ServerChain: chain})
}

// finish fills the profile from what was learned.
func (e *enumerator) finish() {
	r := &e.res
	if len(r.Handshakes) > 0 {
		r.Outcome, r.Err = observe.ProbeTLS, nil
	}
	// TLS 1.3 enumeration reads no certificates (they are encrypted); the full handshake
	// read them, and they are the same server's.
	for i := range r.Handshakes {
		s := &r.Handshakes[i].Session
		if s.Version == versionTLS13 && len(r.Handshakes[i].ServerChain) == 0 && e.firstOK && e.first.version == versionTLS13 {
			r.Handshakes[i].ServerChain = e.first.chain
			s.ServerChain = refsOf(e.first.chain)
			s.CertsEncrypted = len(e.first.chain) == 0
			s.CertRequest = e.first.certReq
			s.CertRequestCAs = e.first.cas
		}
		if s.CertRequest {
			r.Profile.CertRequest = true
			if len(r.Profile.CertRequestCAs) == 0 {
				r.Profile.CertRequestCAs = s.CertRequestCAs
			}
		}
	}
	prof := &r.Profile
	if len(e.kinds) > 0 {
		prof.Versions = append(prof.Versions, versionSSL2)
		prof.Suites = append(prof.Suites, observe.VersionSuites{Version: versionSSL2, Suites: slices.Clone(e.kinds)})
	}
	for _, v := range []uint16{versionSSL3, versionTLS10, versionTLS11, versionTLS12, versionTLS13} {
		if len(e.known[v]) == 0 {
			continue
		}
		prof.Versions = append(prof.Versions, v)
		vs := observe.VersionSuites{Version: v, ServerPreference: e.pref[v]}
		for _, s := range e.order[v] {
			vs.Suites = append(vs.Suites, uint32(s))
		}
		for _, s := range e.known[v] {
			vs.Suites = appendNew(vs.Suites, uint32(s))
		}
		if !vs.ServerPreference {
			slices.Sort(vs.Suites)
		}
		prof.Suites = append(prof.Suites, vs)
	}
	for g := range e.groups {
		prof.Groups = append(prof.Groups, g)
	}
	slices.Sort(prof.Groups)
	prof.DHBits = e.dhBits
	if e.firstOK {
		prof.ServerChain = refsOf(e.first.chain)
	}
	if len(prof.ServerChain) == 0 {
		for _, h := range r.Handshakes {
			if len(h.ServerChain) > 0 {
				prof.ServerChain = refsOf(h.ServerChain)
				break
			}
		}
	}
}

// dial opens one connection through the Dialer and counts it.
func (e *enumerator) dial() (net.Conn, error) {
	e.res.Connections++
	c, err := e.d.Dial(e.ctx, e.t.Server.Port())
	if err != nil && e.ctx.Err() == nil && e.cut == nil {
		e.cut = err
	}
	return c, err
}

func (e *enumerator) handshakeTimeout() time.Duration {
	if e.to.Handshake > 0 {
		return e.to.Handshake
	}
	return defaultHandshakeTimeout
}

func (e *enumerator) timedOut() {
	e.timeouts++
	if e.timeouts >= maxEnumTimeouts {
		e.stopped = true
		if e.cut == nil && e.ctx.Err() == nil {
			e.cut = ErrTimeouts
		}
	}
}

// flow is the flow of a probe connection: the local end the Dialer chose, the target.
func (e *enumerator) flow(local net.Addr) observe.Flow {
	f := observe.Flow{Server: e.t.Server}
	if a, ok := local.(*net.TCPAddr); ok {
		f.Client = a.AddrPort()
		f.Client = netip.AddrPortFrom(f.Client.Addr().Unmap(), f.Client.Port())
	}
	return f
}

func refsOf(chain [][]byte) []observe.CertRef {
	var out []observe.CertRef
	for _, der := range chain {
		out = append(out, observe.CertRef(sha256.Sum256(der)))
	}
	return out
}

func isECDHE(id uint16) bool {
	s, ok := observe.Suite(id)
	return ok && (s.KeyExchange == "ECDHE" || s.KeyExchange == "ECDHE_PSK")
}

func isChaCha(id uint16) bool {
	s, _ := observe.Suite(id)
	return s.Cipher == "CHACHA20"
}

func appendNew[T comparable](l []T, v T) []T {
	if slices.Contains(l, v) {
		return l
	}
	return append(l, v)
}

// hex8 renders an unknown compression method the way the registry does.
func hex8(m uint8) string {
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[m>>4], digits[m&0xf]})
}

// dialOutcome types a failed Dial.
func dialOutcome(err error) observe.ProbeOutcome {
	if isTimeout(err) {
		return observe.ProbeTimeout
	}
	return observe.ProbeRefused
}

// failOutcome types a handshake that did not reach a ServerHello.
func failOutcome(err error, fl flight) observe.ProbeOutcome {
	switch {
	case fl.notTLS:
		return observe.ProbeNotTLS
	case fl.alert >= 0 || isRemoteAlert(err):
		return observe.ProbeHandshakeFailure
	case isTimeout(err):
		return observe.ProbeTimeout
	case isReset(err):
		return observe.ProbeReset
	}
	return observe.ProbeHandshakeFailure
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func isReset(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed)
}
