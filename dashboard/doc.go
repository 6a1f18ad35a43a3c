// Package dashboard serves sgsweep's web dashboard and its Prometheus
// metrics: server-rendered pages (html/template, assets embedded, a little
// vanilla JavaScript) of the sweeps, one sweep (live progress, running
// tasks, failures, the results table of results.RunQuery, figures drawn by
// results/plot as SVG, export downloads) and one task (with its stop
// decision, if the sweep's stopping rules ended it early); live updates by
// Server-Sent Events fed from the coordinator's events; and /metrics.
//
// It reads through two interfaces: a Source (a results.RecordSource and
// the sweeps' status) that a store alone or a running coordinator
// provides, and an optional Live (the coordinator's events and its cancel
// and retry). With no Live, it serves a store read-only.
//
// # Security
//
// The server listens on loopback unless told otherwise; any other address
// needs a token (Options.Token), which every request must then carry, in
// an "Authorization: Bearer" header or in the cookie the login page sets.
// Actions that change state (cancel, retry) are POST-only, need the token
// when one is set, and carry a CSRF token bound to the server; cross-site
// requests (Sec-Fetch-Site, Origin) are refused. On loopback without a
// token, requests must name a loopback Host (no DNS rebinding). No handler
// serves a file by a path taken from the request.
//
// # Live updates
//
// One goroutine reads the coordinator's events (coordinator.Subscribe:
// bounded, never blocking a commit), keeps the running tasks' latest epoch
// and the metrics, and wakes the event streams of the browsers with a
// one-slot notification each: a slow browser loses nothing but
// intermediate states, since each wake-up sends the current state, read
// from the store's counters, at most four times a second.
package dashboard
