package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds how long a started process may take to answer PING.
const readyTimeout = 5 * time.Second

// startAttempts is how many free ports Start tries before giving up; another
// process may grab a port between our probe and redis-server's bind.
const startAttempts = 5

// Server is one redis-server process listening on a loopback port. Its
// methods that may fail call tb.Fatal, so call them from the test goroutine.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	// argv builds the command line for a port; it may write config files.
	argv func(port int) ([]string, error)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a standalone redis-server without persistence on a free
// loopback port, waits until it answers PING and kills it when the test ends.
// It fails the test when redis-server is not installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return startServer(tb, nil)
}

// startServer starts redis-server with the standard test flags followed by
// extra, retrying on another port if the process does not come up.
func startServer(tb testing.TB, extra func(dir string, port int) []string) *Server {
	tb.Helper()
	dir := tb.TempDir()
	return startWith(tb, dir, func(port int) ([]string, error) {
		args := []string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--protected-mode", "no",
		}
		if extra != nil {
			args = append(args, extra(dir, port)...)
		}
		return args, nil
	})
}

// startWith launches redis-server with argv on a free port.
func startWith(tb testing.TB, dir string, argv func(port int) ([]string, error)) *Server {
	tb.Helper()
	bin := mustLookPath(tb, "redis-server")
	var lastErr error
	for range startAttempts {
		port, err := FreePort()
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		s := &Server{tb: tb, bin: bin, dir: dir, port: port, argv: argv}
		if err := s.launch(); err != nil {
			lastErr = err
			continue
		}
		tb.Cleanup(s.Kill)
		return s
	}
	tb.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

// mustLookPath finds a redis binary or fails the test with an install hint.
func mustLookPath(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s not found: run `apt-get install -y redis-server`", name)
	}
	return p
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Dir is the server's working directory (its logs and config live there).
func (s *Server) Dir() string { return s.dir }

// launch starts the process and waits until it answers PING.
func (s *Server) launch() error {
	args, err := s.argv(s.port)
	if err != nil {
		return err
	}
	logPath := filepath.Join(s.dir, "redis-"+strconv.Itoa(s.port)+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	if err := waitReady(s.Addr(), done); err != nil {
		s.Kill()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%s: %w\n%s", s.Addr(), err, tail(log, 2000))
	}
	return nil
}

// waitReady polls PING until it answers or the process exits.
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return errors.New("process exited before answering PING")
		default:
		}
		if reply, err := Do(addr, "PING"); err == nil && len(reply) == 1 && reply[0] == "PONG" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG within %v", readyTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop shuts the server down with SIGTERM and waits for it to exit. The port
// is free for Restart afterwards.
func (s *Server) Stop() {
	s.signal(func(p *os.Process) error { return p.Signal(os.Interrupt) })
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	s.signal(func(p *os.Process) error { return p.Kill() })
}

// signal sends a signal and waits for the process to exit, escalating to
// SIGKILL after a few seconds.
func (s *Server) signal(send func(*os.Process) error) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = send(cmd.Process)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart starts the server again on the same port after Stop or Kill (or
// kills it first if it is still running). Data is not kept.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	var err error
	// The port was just released; retry briefly in case of a slow release.
	for range startAttempts {
		if err = s.launch(); err == nil {
			return
		}
	}
	s.tb.Fatalf("redistest: restart %s: %v", s.Addr(), err)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
