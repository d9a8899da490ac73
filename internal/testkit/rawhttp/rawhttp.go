// Package rawhttp sends an HTTP/1.1 request exactly as a test writes it:
// the request target uncleaned (dot segments, %2F, //) and each header in
// the spelling, case and number of copies given, as an attacker would send
// them and net/http's client would not.
package rawhttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Get sends "GET target" with Host host and headers (name, value) in order
// to addr over a new connection, and returns the response status. It fails
// tb when the connection or the response fails, or after 10s.
func Get(tb testing.TB, addr, host, target string, headers [][2]string) int {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatalf("rawhttp: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n")
	for _, h := range headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		tb.Fatalf("rawhttp: write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		tb.Fatalf("rawhttp: read: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
