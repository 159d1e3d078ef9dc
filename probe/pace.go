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

// hostDialer is the Dialer for one host: it holds the host's politeness state and
// counts every connection made to it. One connection at a time is enforced by a
// one-slot semaphore released when the connection closes, so a caller that forgets to
// close stalls only that host's later dials, and only until their context ends.
type hostDialer struct {
	cfg    *Config
	scope  *Scope
	lim    *limiter
	addr   netip.Addr
	name   string
	onDial func(failed bool) // progress accounting; may be nil

	slot chan struct{} // holds a token while a connection is open or being made

	mu          sync.Mutex
	lastClose   time.Time
	conns       int
	failures    int
	streak      int // consecutive failed connects
	backedOff   error
	opened      map[uint16]bool // ports where a connect succeeded
	perPort     map[uint16]int
	first, last time.Time
}

func newHostDialer(cfg *Config, s *Scope, lim *limiter, addr netip.Addr, name string) *hostDialer {
	return &hostDialer{cfg: cfg, scope: s, lim: lim, addr: addr, name: name,
		slot: make(chan struct{}, 1), opened: map[uint16]bool{}, perPort: map[uint16]int{}}
}

// allowed checks the scope at dial time: a name target's address only for that name.
func (d *hostDialer) allowed() bool {
	if d.name != "" {
		return d.scope.AllowsName(d.name, d.addr)
	}
	return d.scope.Allows(d.addr)
}

// Dial implements Dialer with the host's politeness rules. It waits for the host's
// previous connection to close, for the pause after it and for the global rate, then
// connects within the connect timeout. The returned connection has a deadline of the
// handshake timeout from connect, and is closed at once if ctx is cancelled.
func (d *hostDialer) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	select {
	case d.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-d.slot }

	d.mu.Lock()
	err := d.backedOff
	switch {
	case err != nil:
	case d.conns >= d.cfg.MaxConnsPerHost:
		d.backedOff = ErrConnCap
		err = ErrConnCap
	}
	wake := d.lastClose.Add(d.cfg.Pause)
	d.mu.Unlock()
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
	if !d.allowed() {
		release()
		return nil, fmt.Errorf("%w: %s", ErrOutOfScope, d.addr)
	}
	start := time.Now()
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
		d.mu.Lock()
		d.failures++
		if errors.Is(err, syscall.ECONNREFUSED) {
			d.streak = 0
		} else if ctx.Err() == nil {
			d.streak++
			if d.streak >= d.cfg.MaxFailures {
				d.backedOff = ErrBackedOff
			}
		}
		d.lastClose = time.Now()
		d.last = d.lastClose
		d.mu.Unlock()
		if d.onDial != nil {
			d.onDial(true)
		}
		release()
		return nil, err
	}
	d.mu.Lock()
	d.streak = 0
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

// state returns the host's account for ProbeHost.
func (d *hostDialer) state() (conns, failures int, backedOff error, first, last time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns, d.failures, d.backedOff, d.first, d.last
}

// port returns how many connections were made to port and whether one connected.
func (d *hostDialer) port(p uint16) (conns int, opened bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.perPort[p], d.opened[p]
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
		c.d.lastClose = now
		c.d.last = now
		c.d.mu.Unlock()
		<-c.d.slot
	})
	return err
}

// DefaultConfig is the configuration every zero field of Config stands for: what a
// user gets without flags, spelled out so a CLI can show the defaults in its help.
func DefaultConfig() Config { return Config{}.withDefaults() }
