package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/medscan/medscan/observe"
)

// The defaults Config.withDefaults fills in for zero fields. They are chosen for a
// clinical network, where a scan that takes longer is always better than a device that
// stops answering.
const (
	DefaultPause            = 250 * time.Millisecond // between one connection's close and the next connect to the same host
	DefaultRate             = 20                     // new connections per second, across all hosts
	DefaultConnectTimeout   = 3 * time.Second
	DefaultHandshakeTimeout = 8 * time.Second
	DefaultMaxConnsPerHost  = 200 // a standard-profile enumeration of a busy TLS port needs about 40
	DefaultMaxFailures      = 3   // consecutive failed connects before a host is left alone
	DefaultHosts            = 16  // hosts probed in parallel
)

// Config is how a scan behaves: what it asks and how gently. Zero fields take the
// defaults above, so Config{} is a gentle standard scan of DefaultPorts.
type Config struct {
	Profile Profile  // default ProfileStandard
	Ports   []uint16 // default DefaultPorts
	// Pause is the quiet time between the close of one connection to a host and the
	// next connect to it; zero means DefaultPause, a negative value no pause at all
	// (for benchmarks on loopback, never for a clinical network).
	Pause time.Duration
	// Rate caps new connections per second across all hosts; zero means DefaultRate, a
	// negative value no cap.
	Rate     float64
	Timeouts Timeouts // zero fields: DefaultConnectTimeout, DefaultHandshakeTimeout
	// MaxConnsPerHost caps the connections made to one host in one scan; past it the
	// host's remaining ports are skipped and the host is marked BackedOff.
	MaxConnsPerHost int
	// MaxFailures is how many consecutive failed connects (timeouts, unreachable: a
	// host in distress or gone) make the prober leave a host alone. A refused connect
	// is a prompt answer from a live host, so it ends a run of failures rather than
	// extending it: otherwise a host with three closed ports before its open one would
	// never be probed on the open one.
	MaxFailures int
	Hosts       int // hosts probed in parallel; default DefaultHosts
	// Skip, when set, is asked about every host before any connection to it; a
	// non-empty answer ("medical device") is the reason it is skipped.
	Skip func(netip.Addr) string
	// Progress, when set, receives the scan's progress a few times per second and once
	// at the end, from a goroutine of its own.
	Progress func(Progress)
	// DialContext opens TCP connections; default a net.Dialer. Tests replace it to
	// watch or fake what is dialled; the scope is checked before it is called.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// withDefaults returns c with every zero field filled in.
func (c Config) withDefaults() Config {
	if c.Profile == "" {
		c.Profile = ProfileStandard
	}
	if len(c.Ports) == 0 {
		c.Ports = DefaultPorts
	}
	if c.Pause == 0 {
		c.Pause = DefaultPause
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Timeouts.Connect <= 0 {
		c.Timeouts.Connect = DefaultConnectTimeout
	}
	if c.Timeouts.Handshake <= 0 {
		c.Timeouts.Handshake = DefaultHandshakeTimeout
	}
	if c.MaxConnsPerHost <= 0 {
		c.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	if c.Hosts <= 0 {
		c.Hosts = DefaultHosts
	}
	if c.DialContext == nil {
		var d net.Dialer
		c.DialContext = d.DialContext
	}
	return c
}

// Errors a paced Dial returns instead of connecting. Run turns them into skipped ports.
var (
	ErrBackedOff  = errors.New("probe: host backed off after consecutive failures")
	ErrConnCap    = errors.New("probe: connection cap for the host reached")
	ErrOutOfScope = errors.New("probe: address is outside the scope")
	// ErrTimeouts is why an enumeration stopped asking a port that kept timing out.
	ErrTimeouts = errors.New("probe: the port stopped answering in time")
)

// limiter spaces new connections evenly across all hosts: each reservation takes the
// next free slot, 1/rate after the previous one. Burst is one, so a scan never opens a
// volley of connections at once.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration // 0: unlimited
	next     time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{interval: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the caller's slot, or returns ctx's error; a cancelled wait gives
// its slot up only by letting it pass unused, which errs on the side of fewer connections.
func (l *limiter) wait(ctx context.Context) error {
	if l.interval == 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	return sleepCtx(ctx, time.Until(slot))
}

// sleepCtx sleeps d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hostPace is one address's politeness state, shared by every job that reaches that
// address: an address target and a name resolving to it, or two names, are one device,
// and must not get two connections at once, two pauses' worth of haste or two caps.
// One connection at a time is enforced by a one-slot semaphore released when the
// connection closes, so a caller that forgets to close stalls only that host's later
// dials, and only until their context ends.
type hostPace struct {
	slot chan struct{} // holds a token while a connection is open or being made

	mu        sync.Mutex
	lastClose time.Time
	conns     int // connections made to the address by every job
	streak    int // consecutive failed connects or timeouts
	backedOff error
}

func newHostPace() *hostPace { return &hostPace{slot: make(chan struct{}, 1)} }

// hostDialer is the Dialer for one host job (an address, or a name at one of its
// addresses): it dials under the address's shared hostPace and counts the job's own
// connections for its report.
type hostDialer struct {
	cfg    *Config
	scope  *Scope
	lim    *limiter
	addr   netip.Addr
	name   string
	onDial func(failed bool) // progress accounting; may be nil
	pace   *hostPace

	mu          sync.Mutex
	conns       int
	opened      map[uint16]bool // ports where a connect succeeded
	perPort     map[uint16]int
	fails       map[uint16]map[string]int // port -> failure kind (observe.Failure*) -> count
	first, last time.Time
}

// newHostDialer returns a dialer for addr under pace; nil pace gives the job a pace of
// its own (a caller that knows no other job reaches the address).
func newHostDialer(cfg *Config, s *Scope, lim *limiter, addr netip.Addr, name string, pace *hostPace) *hostDialer {
	if pace == nil {
		pace = newHostPace()
	}
	return &hostDialer{cfg: cfg, scope: s, lim: lim, addr: addr, name: name, pace: pace,
		opened: map[uint16]bool{}, perPort: map[uint16]int{}, fails: map[uint16]map[string]int{}}
}

// count records one failure of kind (an observe.Failure* constant) on port, for the
// host's and the port's accounts; whether it extends the run toward backing off is the
// caller's decision (failed).
func (d *hostDialer) count(port uint16, kind string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fails[port] == nil {
		d.fails[port] = map[string]int{}
	}
	d.fails[port][kind]++
}

// connectFailure names the kind of a failed connect.
func connectFailure(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return observe.FailureRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return observe.FailureTimeout
	}
	return observe.FailureUnreachable
}

// answered resets the address's run of failures: the host answered in a protocol (a TLS
// handshake, even a refusal, or a recognised service). An accepted connection alone does
// not, since a hung application behind a live TCP stack accepts every connection.
func (d *hostDialer) answered() {
	d.pace.mu.Lock()
	d.pace.streak = 0
	d.pace.mu.Unlock()
}

// failed counts a failure toward the address's back-off: a failed connect that was not
// refused, or a port that accepted and then never answered within the handshake timeout
// (a hung application behind a live TCP stack is as much a sign of distress).
func (d *hostDialer) failed() {
	p := d.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streak++
	if p.streak >= d.cfg.MaxFailures && p.backedOff == nil {
		p.backedOff = ErrBackedOff
	}
}

// allowed checks the scope at dial time: a name target's address only for that name, and
// only on a port its targets (or the run's port list) give it.
func (d *hostDialer) allowed(port uint16) bool {
	if d.name != "" {
		return d.scope.AllowsNamePort(d.name, d.addr, port, d.cfg.Ports)
	}
	return d.scope.AllowsPort(d.addr, port, d.cfg.Ports)
}

// Dial implements Dialer with the host's politeness rules. It waits for the host's
// previous connection to close, for the pause after it and for the global rate, then
// connects within the connect timeout. The returned connection has a deadline of the
// handshake timeout from connect, and is closed at once if ctx is cancelled.
func (d *hostDialer) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	p := d.pace
	select {
	case p.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-p.slot }

	p.mu.Lock()
	err := p.backedOff
	switch {
	case err != nil:
	case p.conns >= d.cfg.MaxConnsPerHost:
		p.backedOff = ErrConnCap
		err = ErrConnCap
	}
	wake := p.lastClose.Add(d.cfg.Pause)
	p.mu.Unlock()
	if err != nil {
		release()
		return nil, err
	}
	if d.cfg.Pause > 0 {
		if err := sleepCtx(ctx, time.Until(wake)); err != nil {
			release()
			return nil, err
		}
	}
	if err := d.lim.wait(ctx); err != nil {
		release()
		return nil, err
	}

	// Run only builds dialers for addresses in scope; this last check, after the waits
	// and just before the connect, is the line of defence should that ever change.
	if !d.allowed(port) {
		release()
		return nil, fmt.Errorf("%w: %s", ErrOutOfScope, netip.AddrPortFrom(d.addr, port))
	}
	if err := ctx.Err(); err != nil {
		release()
		return nil, err
	}
	start := time.Now()
	p.mu.Lock()
	p.conns++
	p.mu.Unlock()
	d.mu.Lock()
	d.conns++
	d.perPort[port]++
	if d.first.IsZero() {
		d.first = start
	}
	d.last = start
	d.mu.Unlock()

	cctx, cancel := context.WithTimeout(ctx, d.cfg.Timeouts.Connect)
	raw, err := d.cfg.DialContext(cctx, "tcp", netip.AddrPortFrom(d.addr, port).String())
	cancel()
	if err != nil {
		now := time.Now()
		if ctx.Err() == nil {
			d.count(port, connectFailure(err))
		}
		d.mu.Lock()
		refusedAfterAnswer := errors.Is(err, syscall.ECONNREFUSED) && d.opened[port]
		d.last = now
		d.mu.Unlock()
		p.mu.Lock()
		p.lastClose = now
		p.mu.Unlock()
		switch {
		case ctx.Err() != nil:
		case refusedAfterAnswer:
			// The port accepted earlier in this scan and now refuses: the service went
			// away under the scan, which is distress, not a closed port.
			d.failed()
		case errors.Is(err, syscall.ECONNREFUSED):
			p.mu.Lock()
			p.streak = 0
			p.mu.Unlock()
		default:
			d.failed()
		}
		if d.onDial != nil {
			d.onDial(true)
		}
		release()
		return nil, err
	}
	d.mu.Lock()
	d.opened[port] = true
	d.mu.Unlock()
	if d.onDial != nil {
		d.onDial(false)
	}
	_ = raw.SetDeadline(start.Add(d.cfg.Timeouts.Handshake))
	c := &pacedConn{Conn: raw, d: d}
	c.stop = context.AfterFunc(ctx, func() { _ = raw.Close() })
	return c, nil
}

// state returns the host's account for ProbeHost: failures of every kind on every port.
func (d *hostDialer) state() (conns, failures int, kinds map[string]int, backedOff error, first, last time.Time) {
	d.pace.mu.Lock()
	backedOff = d.pace.backedOff
	d.pace.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range d.fails {
		observe.AddFailures(&kinds, k)
	}
	for _, n := range kinds {
		failures += n
	}
	return d.conns, failures, kinds, backedOff, d.first, d.last
}

// backedOff returns why the host is left alone, nil while it is not.
func (d *hostDialer) backedOff() error {
	d.pace.mu.Lock()
	defer d.pace.mu.Unlock()
	return d.pace.backedOff
}

// port returns how many connections were made to port, whether one connected, and the
// port's failures by kind.
func (d *hostDialer) port(p uint16) (conns int, opened bool, failures int, kinds map[string]int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	observe.AddFailures(&kinds, d.fails[p])
	for _, n := range kinds {
		failures += n
	}
	return d.perPort[p], d.opened[p], failures, kinds
}

// pacedConn releases its host's slot, once, when closed, and remembers when, so that
// the next connect waits out the pause from the close.
type pacedConn struct {
	net.Conn
	d    *hostDialer
	stop func() bool
	once sync.Once
}

// Close closes the connection and frees the host for its next one.
func (c *pacedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.stop()
		now := time.Now()
		c.d.mu.Lock()
		c.d.last = now
		c.d.mu.Unlock()
		c.d.pace.mu.Lock()
		c.d.pace.lastClose = now
		c.d.pace.mu.Unlock()
		<-c.d.pace.slot
	})
	return err
}

// DefaultConfig is the configuration every zero field of Config stands for: what a
// user gets without flags, spelled out so a CLI can show the defaults in its help.
func DefaultConfig() Config { return Config{}.withDefaults() }
