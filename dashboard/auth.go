package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/sgsweep/sgsweep/internal/httpserve"
)

// TokenEnv is the environment variable that --http-token reads.
const TokenEnv = "SGSWEEP_HTTP_TOKEN"

// sessionCookie holds a value derived from the token (never the token
// itself), set by the login page.
const sessionCookie = "sgsweep_session"

// exposure names the dashboard in httpserve's refusals.
var exposure = httpserve.Exposure{What: "dashboard address", Could: "watch and cancel sweeps",
	TokenHint: "--http-token or " + TokenEnv}

// CheckAddr refuses a non-loopback listen address without a token.
func CheckAddr(addr, token string) error { return exposure.CheckAddr(addr, token) }

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

// authorized reports whether the request carries the token (header) or the
// session cookie; always true without a token.
func (g *guard) authorized(r *http.Request) bool {
	if g.token == "" {
		return true
	}
	if httpserve.HasBearer(r, g.token) {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && httpserve.Equal(c.Value, g.session)
}

// wrap applies the checks to every request but the login page and the
// assets (which hold nothing secret).
func (g *guard) wrap(next http.Handler) http.Handler {
	return g.cross.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.token == "" && !httpserve.ToLoopbackHost(r) {
			http.Error(w, httpserve.MisdirectedText, http.StatusMisdirectedRequest)
			return
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
	return httpserve.Equal(r.PostFormValue("csrf"), g.csrf)
}

// login serves the login page (GET) and checks the token it posts.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	next := r.FormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	data, status := map[string]any{"Next": next}, http.StatusOK
	if r.Method == http.MethodPost {
		if s.guard.token != "" && httpserve.Equal(r.PostFormValue("token"), s.guard.token) {
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
