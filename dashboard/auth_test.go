package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/dashboard"
)

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:0", "", true},
		{"localhost:8080", "", true},
		{"[::1]:8080", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"192.168.1.5:8080", "", false},
		{"0.0.0.0:8080", "secret", true},
		{"nonsense", "secret", false},
	} {
		err := dashboard.CheckAddr(tc.addr, tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAddr(%q, %q) = %v, want ok %v", tc.addr, tc.token, err, tc.ok)
		}
		if err != nil && tc.addr != "nonsense" && !strings.Contains(err.Error(), "--http-token") {
			t.Errorf("CheckAddr(%q): %v does not say how to set a token", tc.addr, err)
		}
	}
	if _, err := dashboard.Listen("0.0.0.0:0", ""); err == nil {
		t.Error("Listen on every interface without a token succeeded")
	}
}

// TestToken: with a token, every request needs it, in a header or in the
// cookie of the login page; pages redirect to the login page.
func TestToken(t *testing.T) {
	const token = "s3cret"
	ts, _ := storeServer(t, token)
	noRedirect := *ts.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for _, path := range []string{"/", "/sweeps/fig", "/sweeps/fig/export.csv", "/sweeps/fig/figure.svg?kind=bars&conditions=surrogate.shape",
		"/metrics", "/events"} {
		if code, _ := get(t, ts, path); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
		if code, _ := get(t, ts, path, "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", path, code)
		}
	}
	if code, _ := get(t, ts, "/sweeps/fig", "Authorization", "Bearer "+token); code != http.StatusOK {
		t.Errorf("GET with the token: %d", code)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/sweeps/fig", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next=%2Fsweeps%2Ffig" {
		t.Errorf("a browser without the token: %d to %q, want the login page", resp.StatusCode, loc)
	}

	login := func(tok, next string) *http.Response {
		resp, err := noRedirect.PostForm(ts.URL+"/login", url.Values{"token": {tok}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := login("wrong", "/"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp = login(token, "//evil.example/")
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("login redirects to %q, want / (no open redirect)", loc)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode ||
		strings.Contains(cookies[0].Value, token) {
		t.Fatalf("login cookie %+v", cookies)
	}
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/sweeps/fig", nil)
	req.AddCookie(cookies[0])
	if resp, err := ts.Client().Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET with the login cookie: %v %v", resp.StatusCode, err)
	}
}

// TestHostCheck: without a token the server answers loopback host names
// only, so that a DNS-rebinding page cannot read it.
func TestHostCheck(t *testing.T) {
	ts, _ := storeServer(t, "")
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	req.Host = "attacker.example:80"
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host attacker.example: %d, want 421", resp.StatusCode)
	}
}

// TestReadOnlyActions: a store served alone has no actions.
func TestReadOnlyActions(t *testing.T) {
	ts, _ := storeServer(t, "")
	resp, err := ts.Client().PostForm(ts.URL+"/sweeps/fig/cancel", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("cancel on a read-only store: %d, want 409", resp.StatusCode)
	}
	if code, _ := get(t, ts, "/sweeps/fig/cancel"); code != http.StatusNotFound {
		t.Errorf("GET cancel: %d, want 404 (no such page)", code)
	}
}
