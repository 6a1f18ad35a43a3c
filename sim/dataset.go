package sim

import "fmt"

// Dataset is a classification task of spike trains, already split.
// Every sample has the same number of Inputs and Steps.
type Dataset struct {
	// Inputs is the number of input units (channels).
	Inputs int
	// Steps is T, the number of time steps per sample.
	Steps int
	// Classes is the number of classes; labels are in [0, Classes).
	Classes int
	// Train, Val and Test are the splits. Val may be empty.
	Train, Val, Test Split
}

// Split is a set of samples stored as spike events in compressed rows:
// sample k's events are Times[Offsets[k]:Offsets[k+1]] and
// Units[Offsets[k]:Offsets[k+1]], sorted by time step, then unit, with no
// repeated (time, unit) pair. An input spike has value 1.
type Split struct {
	// Offsets has len(Labels)+1 entries; Offsets[0] = 0.
	Offsets []int32
	// Times holds the time step of each event, in [0, Steps).
	Times []uint16
	// Units holds the input unit of each event, in [0, Inputs).
	Units []uint16
	// Labels holds the class of each sample.
	Labels []uint8
}

// Len returns the number of samples.
func (s *Split) Len() int { return len(s.Labels) }

// Events returns the time steps and units of sample k's events. The slices
// alias s and must not be modified.
func (s *Split) Events(k int) (times, units []uint16) {
	lo, hi := s.Offsets[k], s.Offsets[k+1]
	return s.Times[lo:hi], s.Units[lo:hi]
}

// Validate checks the invariants above: Inputs, Steps and Classes positive,
// and in each split (the zero Split is a valid empty one) consistent
// lengths, Offsets non-decreasing from 0 to len(Times), times in [0, Steps),
// units in [0, Inputs), events strictly increasing in (time, unit), labels
// in [0, Classes). Errors name the split and the sample.
func (d *Dataset) Validate() error {
	if d.Inputs < 1 || d.Steps < 1 || d.Classes < 1 {
		return fmt.Errorf("dataset: inputs %d, steps %d, classes %d: all must be ≥ 1", d.Inputs, d.Steps, d.Classes)
	}
	for _, s := range []struct {
		name  string
		split *Split
	}{{"train", &d.Train}, {"val", &d.Val}, {"test", &d.Test}} {
		if err := s.split.validate(d.Inputs, d.Steps, d.Classes); err != nil {
			return fmt.Errorf("dataset: %s split: %w", s.name, err)
		}
	}
	return nil
}

func (s *Split) validate(inputs, steps, classes int) error {
	n := len(s.Labels)
	if n == 0 && len(s.Offsets) == 0 && len(s.Times) == 0 && len(s.Units) == 0 {
		return nil // the zero Split: empty
	}
	if len(s.Offsets) != n+1 {
		return fmt.Errorf("%d offsets for %d samples, want %d", len(s.Offsets), n, n+1)
	}
	if len(s.Times) != len(s.Units) {
		return fmt.Errorf("%d times but %d units", len(s.Times), len(s.Units))
	}
	if s.Offsets[0] != 0 || int(s.Offsets[n]) != len(s.Times) {
		return fmt.Errorf("offsets run from %d to %d, want 0 to %d", s.Offsets[0], s.Offsets[n], len(s.Times))
	}
	for k := range n {
		if int(s.Labels[k]) >= classes {
			return fmt.Errorf("sample %d: label %d not below %d classes", k, s.Labels[k], classes)
		}
		if s.Offsets[k+1] < s.Offsets[k] {
			return fmt.Errorf("sample %d: offsets decrease from %d to %d", k, s.Offsets[k], s.Offsets[k+1])
		}
		times, units := s.Events(k)
		for e := range times {
			if int(times[e]) >= steps || int(units[e]) >= inputs {
				return fmt.Errorf("sample %d: event (time %d, unit %d) outside %d steps × %d inputs", k, times[e], units[e], steps, inputs)
			}
			if e > 0 && (times[e] < times[e-1] || times[e] == times[e-1] && units[e] <= units[e-1]) {
				return fmt.Errorf("sample %d: event (time %d, unit %d) after (time %d, unit %d): not strictly increasing", k, times[e], units[e], times[e-1], units[e-1])
			}
		}
	}
	return nil
}
