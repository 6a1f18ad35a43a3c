package sim

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
