package rawhttp_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/testkit/rawhttp"
)

// TestGetSendsAsWritten: the target and every header copy reach the
// server byte for byte, in the spelling given.
func TestGetSendsAsWritten(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	got := make(chan string, 1)
	go func() {
		c, err := lis.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var head strings.Builder
		for {
			line, err := r.ReadString('\n')
			head.WriteString(line)
			if err != nil || line == "\r\n" {
				break
			}
		}
		got <- head.String()
		rec := httptest.NewRecorder()
		rec.WriteHeader(http.StatusTeapot)
		_ = rec.Result().Write(c)
	}()
	status := rawhttp.Get(t, lis.Addr().String(), "runs", "/a/../admin/%2Fx", [][2]string{{"kubeflow_userid", "a"}, {"KUBEFLOW-USERID", "b"}})
	if status != http.StatusTeapot {
		t.Errorf("status = %d, want %d", status, http.StatusTeapot)
	}
	want := "GET /a/../admin/%2Fx HTTP/1.1\r\nHost: runs\r\nConnection: close\r\nkubeflow_userid: a\r\nKUBEFLOW-USERID: b\r\n\r\n"
	if h := <-got; h != want {
		t.Errorf("request head = %q, want %q", h, want)
	}
}
