package sweep

// joeKuo holds the direction numbers of Sobol dimensions 2 to 40 from
// S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better
// two-dimensional projections", SIAM J. Sci. Comput. 30 (2008) 2635–2654,
// file new-joe-kuo-6.21201 (https://web.maths.unsw.edu.au/~fkuo/sobol/):
// per dimension the degree s of its primitive polynomial, the polynomial's
// inner coefficients a (as bits, highest first) and the s initial direction
// numbers m_1 … m_s (m_k odd and below 2^k). Dimension 1 is not in the
// file: it is the van der Corput sequence (every m_k = 1).
var joeKuo = [...]struct {
	s int
	a uint32
	m []uint32
}{
	{1, 0, []uint32{1}},
	{2, 1, []uint32{1, 3}},
	{3, 1, []uint32{1, 3, 1}},
	{3, 2, []uint32{1, 1, 1}},
	{4, 1, []uint32{1, 1, 3, 3}},
	{4, 4, []uint32{1, 3, 5, 13}},
	{5, 2, []uint32{1, 1, 5, 5, 17}},
	{5, 4, []uint32{1, 1, 5, 5, 5}},
	{5, 7, []uint32{1, 1, 7, 11, 19}},
	{5, 11, []uint32{1, 1, 5, 1, 1}},
	{5, 13, []uint32{1, 1, 1, 3, 11}},
	{5, 14, []uint32{1, 3, 5, 5, 31}},
	{6, 1, []uint32{1, 3, 3, 9, 7, 49}},
	{6, 13, []uint32{1, 1, 1, 15, 21, 21}},
	{6, 16, []uint32{1, 3, 1, 13, 27, 49}},
	{6, 19, []uint32{1, 1, 1, 15, 7, 5}},
	{6, 22, []uint32{1, 3, 1, 15, 13, 25}},
	{6, 25, []uint32{1, 1, 5, 5, 19, 61}},
	{7, 1, []uint32{1, 3, 7, 11, 23, 15, 103}},
	{7, 4, []uint32{1, 3, 7, 13, 13, 15, 69}},
	{7, 7, []uint32{1, 1, 3, 13, 7, 35, 63}},
	{7, 8, []uint32{1, 3, 5, 9, 1, 25, 53}},
	{7, 14, []uint32{1, 3, 1, 13, 9, 35, 107}},
	{7, 19, []uint32{1, 3, 1, 5, 27, 61, 31}},
	{7, 21, []uint32{1, 1, 5, 11, 19, 41, 61}},
	{7, 28, []uint32{1, 3, 5, 3, 3, 13, 69}},
	{7, 31, []uint32{1, 1, 7, 13, 1, 19, 1}},
	{7, 32, []uint32{1, 3, 7, 5, 13, 19, 59}},
	{7, 37, []uint32{1, 1, 3, 9, 25, 29, 41}},
	{7, 41, []uint32{1, 3, 5, 13, 23, 1, 55}},
	{7, 42, []uint32{1, 3, 7, 3, 13, 59, 17}},
	{7, 50, []uint32{1, 3, 1, 3, 5, 53, 69}},
	{7, 55, []uint32{1, 1, 5, 5, 23, 33, 13}},
	{7, 56, []uint32{1, 1, 7, 7, 1, 61, 123}},
	{7, 59, []uint32{1, 1, 7, 9, 13, 61, 49}},
	{7, 62, []uint32{1, 3, 3, 5, 3, 55, 33}},
	{8, 14, []uint32{1, 3, 1, 15, 31, 13, 49, 245}},
	{8, 21, []uint32{1, 3, 5, 15, 31, 59, 63, 97}},
	{8, 22, []uint32{1, 3, 1, 11, 11, 11, 77, 249}},
}

// sobolMaxDims is the most dimensions the Sobol generator has direction
// numbers for.
const sobolMaxDims = len(joeKuo) + 1
