// Package plot draws the figures of a sweep with gonum/plot: learning
// curves, a metric against a parameter (one series per value of another,
// mean ± 95% CI), heatmaps over two parameters and bar charts, as PNG, SVG
// or PDF. It reads nothing but query tables: a Querier runs package
// results' queries (SourceQuerier on any results.RecordSource, or the
// coordinator's results endpoint), so a figure shows the numbers that
// `sgsweep results` prints. Stopped tasks (runs ended early by the sweep's
// stopping rules) are left out of the means unless Request.Include names
// them, and marked either way (stopped.go).
package plot
