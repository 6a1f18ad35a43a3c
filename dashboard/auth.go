package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// TokenEnv is the environment variable that --http-token reads.
const TokenEnv = "SGSWEEP_HTTP_TOKEN"

// sessionCookie holds a value derived from the token (never the token
// itself), set by the login page.
const sessionCookie = "sgsweep_session"

// IsLoopback reports whether the listen address ADDR (host:port) binds
// loopback only: localhost, 127.0.0.0/8 or ::1. An empty host binds every
// interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return loopbackHost(host)
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckAddr refuses a non-loopback listen address without a token.
func CheckAddr(addr, token string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("dashboard address %q: %w", addr, err)
	}
	if token == "" && !IsLoopback(addr) {
		return fmt.Errorf("dashboard address %s is not loopback: anyone who can reach it could watch and cancel "+
			"sweeps; set a token with --http-token or %s (or listen on 127.0.0.1)", addr, TokenEnv)
	}
	return nil
}

// guard checks every request: the token (if set), the Host on loopback
// without a token, and the CSRF token and origin of actions.
type guard struct {
	token   string
	session string // the cookie value: HMAC(token, "session")
	csrf    string // the actions' form token: HMAC(key, "csrf")
	cross   *http.CrossOriginProtection
}

func newGuard(token string) (*guard, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	g := &guard{token: token, csrf: mac(key, "csrf"), cross: http.NewCrossOriginProtection()}
	if token != "" {
		g.session = mac([]byte(token), "sgsweep dashboard session")
	}
	return g, nil
}

func mac(key []byte, msg string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil))
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// authorized reports whether the request carries the token (header) or the
// session cookie; always true without a token.
func (g *guard) authorized(r *http.Request) bool {
	if g.token == "" {
		return true
	}
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && equal(auth, g.token) {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && equal(c.Value, g.session)
}

// wrap applies the checks to every request but the login page and the
// assets (which hold nothing secret).
func (g *guard) wrap(next http.Handler) http.Handler {
	return g.cross.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.token == "" {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if !loopbackHost(strings.Trim(host, "[]")) {
				http.Error(w, "this dashboard answers to loopback host names only", http.StatusMisdirectedRequest)
				return
			}
		}
		if r.URL.Path == "/login" || strings.HasPrefix(r.URL.Path, "/static/") || g.authorized(r) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="sgsweep"`)
		http.Error(w, "token required", http.StatusUnauthorized)
	}))
}

// checkAction verifies an action's form token.
func (g *guard) checkAction(r *http.Request) bool {
	return equal(r.PostFormValue("csrf"), g.csrf)
}

// login serves the login page (GET) and checks the token it posts.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	next := r.FormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	data, status := map[string]any{"Next": next}, http.StatusOK
	if r.Method == http.MethodPost {
		if s.guard.token != "" && equal(r.PostFormValue("token"), s.guard.token) {
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.guard.session, Path: "/", HttpOnly: true,
				Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		status = http.StatusUnauthorized
		data["Failed"] = true
	}
	s.render(w, status, "login", "sign in", data)
}
