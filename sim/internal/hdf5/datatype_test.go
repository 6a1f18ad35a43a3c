package hdf5

import (
	"math"
	"testing"
)

func TestFloat16(t *testing.T) {
	tests := []struct {
		bits uint16
		want float64
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},              // largest normal
		{0x0400, 1.0 / 16384},        // smallest normal, 2⁻¹⁴
		{0x0001, 1.0 / 16777216},     // smallest subnormal, 2⁻²⁴
		{0x03ff, 1023.0 / (1 << 24)}, // largest subnormal
		{0x7c00, math.Inf(1)},
		{0xfc00, math.Inf(-1)},
	}
	for _, tt := range tests {
		if got := float16(tt.bits); got != tt.want {
			t.Errorf("float16(%#04x) = %v, want %v", tt.bits, got, tt.want)
		}
	}
	if got := float16(0x8000); got != 0 || !math.Signbit(got) {
		t.Errorf("float16(0x8000) = %v, want -0", got)
	}
	if got := float16(0x7e00); !math.IsNaN(got) {
		t.Errorf("float16(0x7e00) = %v, want NaN", got)
	}
}

func TestLookup3(t *testing.T) {
	// Values from the self-test of Bob Jenkins' lookup3.c (initval 0).
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0xdeadbeef},
		{"Four score and seven years ago", 0x17770551},
	}
	for _, tt := range tests {
		if got := lookup3([]byte(tt.in)); got != tt.want {
			t.Errorf("lookup3(%q) = %#08x, want %#08x", tt.in, got, tt.want)
		}
	}
}

func TestUnshuffle(t *testing.T) {
	// Three 4-byte elements and two trailing bytes, shuffled by hand.
	shuffled := []byte{1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12, 13, 14}
	got, err := unshuffle(shuffled, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	if string(got) != string(want) {
		t.Errorf("unshuffle = %v, want %v", got, want)
	}
}

func TestFletcher32(t *testing.T) {
	// Sums of big-endian 16-bit words, by hand: words 0x0102, 0x0304 and
	// the odd byte 0x05 as 0x0500. s1 = 0x0102+0x0304+0x0500 = 0x0906,
	// s2 = 0x0102 + 0x0406 + 0x0906 = 0x0e0e.
	if got := fletcher32([]byte{1, 2, 3, 4, 5}); got != 0x0e0e0906 {
		t.Errorf("fletcher32 = %#08x, want 0x0e0e0906", got)
	}
	chunk := []byte{1, 2, 3, 4, 5, 0x06, 0x09, 0x0e, 0x0e}
	if _, err := checkFletcher32(chunk); err != nil {
		t.Errorf("valid checksum: %v", err)
	}
	chunk[0] = 9
	if _, err := checkFletcher32(chunk); err == nil {
		t.Error("corrupt chunk passed its checksum")
	}
}
