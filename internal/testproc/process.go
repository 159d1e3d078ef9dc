package testproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The names of the two output streams a Process keeps, for WaitFor and Contains.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Process is a started program whose output is kept line by line, and which is killed,
// with its process group, when the test ends if it is still running.
type Process struct {
	cmd   *exec.Cmd
	stdin io.Closer // nil unless the input is held open
	mu    sync.Mutex
	out   map[string]*bytes.Buffer
	seen  chan struct{} // signalled on each new output line
	done  chan struct{} // closed once the program has ended and its output is read
}

// Start starts name with args, its input /dev/null, and fails the test if it cannot.
func Start(t *testing.T, name string, args ...string) *Process {
	t.Helper()
	return start(t, false, name, args...)
}

// StartHoldingStdin is Start with the program's input a pipe held open until the test
// ends, for servers such as openssl s_server that stop when their input ends.
func StartHoldingStdin(t *testing.T, name string, args ...string) *Process {
	t.Helper()
	return start(t, true, name, args...)
}

func start(t *testing.T, holdStdin bool, name string, args ...string) *Process {
	t.Helper()
	p := &Process{cmd: exec.Command(name, args...), out: map[string]*bytes.Buffer{Stdout: {}, Stderr: {}},
		seen: make(chan struct{}, 1), done: make(chan struct{})}
	if holdStdin {
		stdin, err := p.cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdin = stdin
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Its own process group, so that nginx's workers die with their master and the
	// cleanup never signals anything the test did not start.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	var readers sync.WaitGroup
	for key, r := range map[string]io.Reader{Stdout: stdout, Stderr: stderr} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				p.mu.Lock()
				p.out[key].Write(sc.Bytes())
				p.out[key].WriteByte('\n')
				p.mu.Unlock()
				select {
				case p.seen <- struct{}{}:
				default:
				}
			}
			io.Copy(io.Discard, r) // a line too long for the scanner must not block the program
		}()
	}
	go func() {
		readers.Wait()
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Kill)
	return p
}

// Kill closes a held input and, if the program is still running, kills its process
// group and waits for it to end.
func (p *Process) Kill() {
	if p.stdin != nil {
		p.stdin.Close()
	}
	if !p.WaitExit(0) {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // its own process group: nothing else
		p.WaitExit(10 * time.Second)
	}
}

// Interrupt sends the program SIGINT, the signal capture tools take as "flush and stop".
func (p *Process) Interrupt() error { return p.cmd.Process.Signal(os.Interrupt) }

// errExited is await's answer when the program ended without saying what was awaited.
var errExited = errors.New("exited")

// await returns nil once the program has written a line containing s on stream;
// errExited if it ends first; another error if limit passes first.
func (p *Process) await(stream, s string, limit time.Duration) error {
	deadline := time.After(limit)
	for {
		if p.Contains(stream, s) {
			return nil
		}
		select {
		case <-p.seen:
		case <-p.done:
			if p.Contains(stream, s) {
				return nil
			}
			return errExited
		case <-deadline:
			return fmt.Errorf("did not say %q within %v", s, limit)
		}
	}
}

// WaitFor returns once the program has written a line containing s on stream, and
// fails the test if it exits first or takes longer than limit.
func (p *Process) WaitFor(t *testing.T, stream, s string, limit time.Duration) {
	t.Helper()
	switch err := p.await(stream, s, limit); {
	case err == errExited:
		t.Fatalf("%s exited before saying %q: %s", p.name(), s, p.Output())
	case err != nil:
		t.Fatalf("%s %v: %s", p.name(), err, p.Output())
	}
}

// Contains reports whether the program has written s on stream so far.
func (p *Process) Contains(stream, s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Contains(p.out[stream].String(), s)
}

// WaitExit waits up to limit for the program to end and reports whether it has; a
// limit of zero or less only looks.
func (p *Process) WaitExit(limit time.Duration) bool {
	if limit <= 0 {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	select {
	case <-p.done:
		return true
	case <-time.After(limit):
		return false
	}
}

// Output is the command line and what the program has written so far, each stream cut
// to 3000 bytes, for failure messages.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%s %s\nstdout: %.3000s\nstderr: %.3000s", p.name(),
		strings.Join(p.cmd.Args[1:], " "), p.out[Stdout].String(), p.out[Stderr].String())
}

func (p *Process) name() string { return filepath.Base(p.cmd.Path) }
