package sweep

import "go.yaml.in/yaml/v3"

// parseSample reads the spec's sample block (n is nil when the spec has
// none) and turns the sampled axes into one axis of n sample points.
// TODO(sampling): to be written.
func (p *specParser) parseSample(n *yaml.Node) {
	if n != nil && !isNull(n) {
		p.errs.add(posOf(n), "sample", "sampling is not implemented yet")
	}
}
