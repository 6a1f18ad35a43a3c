package suggest

import "testing"

func TestNearest(t *testing.T) {
	for _, tc := range []struct {
		name       string
		got        string
		candidates []string
		maxDist    int
		want       string
	}{
		{"exact", "seed", []string{"lr", "seed"}, 1, "seed"},
		{"one typo", "gird", []string{"name", "grid", "zip"}, 2, "grid"},
		{"too far", "epochs", []string{"lr", "batch"}, 2, ""},
		{"at the limit", "abc", []string{"xyz"}, 3, "xyz"},
		{"just over the limit", "abc", []string{"xyz"}, 2, ""},
		{"nearest wins", "seeds", []string{"data_seed", "seed"}, 5, "seed"},
		{"first of a tie", "ab", []string{"ax", "xb"}, 1, "ax"},
		{"no candidates", "x", nil, 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Nearest(tc.got, tc.candidates, tc.maxDist); got != tc.want {
				t.Errorf("Nearest(%q, %q, %d) = %q, want %q", tc.got, tc.candidates, tc.maxDist, got, tc.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"same", "same", 0},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}
