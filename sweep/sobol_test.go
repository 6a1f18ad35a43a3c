package sweep

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSobolPublished checks the Sobol generator against points that Joe
// and Kuo's own program prints for their direction numbers (see
// testdata/sobol/joe-kuo.txt): every dimension the generator carries, at
// points whose Gray codes use each of the direction numbers v_1 … v_10.
func TestSobolPublished(t *testing.T) {
	const n = 1024
	g := newSobol(sobolMaxDims)
	points := make([][]float64, n) // points[k]: point k, point 0 the origin
	points[0] = make([]float64, sobolMaxDims)
	byFirst := map[float64]int{0: 0}
	for k := 1; k < n; k++ {
		x, ok := g.next()
		if !ok {
			t.Fatal("the generator ran out before 1024 points")
		}
		points[k] = make([]float64, sobolMaxDims)
		for j, xj := range x {
			points[k][j] = float64(xj) * 0x1p-32
		}
		byFirst[points[k][0]] = k
	}
	if len(byFirst) != n {
		t.Fatalf("dimension 1 has %d distinct values in %d points, want all distinct", len(byFirst), n)
	}

	f, err := os.Open("testdata/sobol/joe-kuo.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, dims := 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<16)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		want := make([]float64, len(fields))
		for j, s := range fields {
			if want[j], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("fixture line %q: %v", line, err)
			}
		}
		k, ok := byFirst[want[0]]
		if !ok {
			t.Fatalf("no point among the first %d has first coordinate %v", n, want[0])
		}
		for j := 0; j < len(want) && j < sobolMaxDims; j++ {
			if points[k][j] != want[j] {
				t.Errorf("point %d, dimension %d: got %v, want %v", k, j+1, points[k][j], want[j])
			}
		}
		lines++
		dims = max(dims, min(len(want), sobolMaxDims))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines < 8 || dims != sobolMaxDims {
		t.Errorf("checked %d published points in up to %d dimensions; want 8 points and all %d dimensions", lines, dims, sobolMaxDims)
	}
}

// The points sweeps use start at the origin.
func TestSobolPoints(t *testing.T) {
	got := sobolPoints(4, 2)
	want := [][]float64{{0, 0}, {0.5, 0.5}, {0.75, 0.25}, {0.25, 0.75}}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("sobolPoints(4, 2) = %v, want %v", got, want)
			}
		}
	}
}
