package httpserve_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/internal/httpserve"
)

func TestCheckAddr(t *testing.T) {
	e := httpserve.Exposure{What: "--metrics address", Could: "read it", TokenHint: "--metrics-token"}
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:0", "", true},
		{"127.9.9.9:80", "", true},
		{"LocalHost:8080", "", true},
		{"[::1]:8080", "", true},
		{"0.0.0.0:8080", "", false},
		{"[::]:8080", "", false},
		{":8080", "", false},
		{"localhost.example:8080", "", false},
		{"10.0.0.1:8080", "t", true},
		{"127.0.0.1", "", false}, // no port
	} {
		err := e.CheckAddr(tc.addr, tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAddr(%q, %q) = %v, want ok %v", tc.addr, tc.token, err, tc.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "--metrics address") {
			t.Errorf("CheckAddr(%q): %v does not name the address", tc.addr, err)
		}
	}
	if _, err := e.Listen("0.0.0.0:0", ""); err == nil || !strings.Contains(err.Error(), "--metrics-token") {
		t.Errorf("Listen on every interface without a token: %v, want a refusal naming the token flag", err)
	}
}

func TestRequireToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, tc := range []struct {
		token, host, auth string
		want              int
	}{
		{"", "localhost:9300", "", http.StatusTeapot},
		{"", "127.0.0.1:9300", "", http.StatusTeapot},
		{"", "[::1]:9300", "", http.StatusTeapot},
		{"", "rebound.example:9300", "", http.StatusMisdirectedRequest},
		{"k", "rebound.example:9300", "Bearer k", http.StatusTeapot},
		{"k", "localhost", "", http.StatusUnauthorized},
		{"k", "localhost", "Bearer kk", http.StatusUnauthorized},
		{"k", "localhost", "k", http.StatusUnauthorized},
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.Host = tc.host
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		httpserve.RequireToken(tc.token, ok).ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("token %q, Host %q, Authorization %q: %d, want %d", tc.token, tc.host, tc.auth, w.Code, tc.want)
		}
	}
}

// LoopbackHost: the names and addresses that reach only this machine.
func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "LocalHost": true,
		"127.1.2.3": true, "0.0.0.0": false, "": false, "::": false, "example.org": false, "10.0.0.1": false} {
		if httpserve.LoopbackHost(host) != want {
			t.Errorf("LoopbackHost(%q) = %v", host, !want)
		}
	}
}
