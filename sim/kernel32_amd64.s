//go:build amd64 && !purego

#include "textflag.h"

// Assembly versions of the float32 kernels in kernel32.go, all AVX-512,
// sixteen float32 to a ZMM register, for any length, the last 1 to 15
// under a mask. Each does exactly the IEEE operations of its Go version,
// in the same order, without FMA, as the float64 kernels in
// kernel_amd64.s do (whose layout these follow).
//
// The kernels over matrix columns (gemvT32, addRows32, addOuter32) hold
// 64 columns (four registers) at a time while the rows stream past, then
// the last 1 to 63 columns in one more pass of as many registers as they
// need, the last under a mask: a layer of 100 takes two passes over the
// rows, not four.

// func gemvT32AVX512(dst *[4][]float32, mt []float32, x *[4][]float32, rows, cols, from, to int)
// For four samples s and columns j in [from, to): dst[s][j] +=
// x[s][i]·mt[i·cols+j] for i = 0, 1, …, rows−1, in order. Sixty-four
// columns at a time (sixteen accumulators, so that each broadcast of
// x[s][i] serves four registers), then the last 1 to 63 in blocks of
// four, three, two or one register, the last under a mask (K1). Every
// block loads its columns of all four dst before it stores any, so a
// slot repeated (a partial group) gives the same bits each time.
TEXT ·gemvT32AVX512(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), DI
	MOVQ mt_base+8(FP), SI
	MOVQ x+32(FP), DX
	MOVQ rows+40(FP), BX
	MOVQ cols+48(FP), R13
	SHLQ $2, R13 // row stride of mt, in bytes
	MOVQ from+56(FP), AX
	MOVQ to+64(FP), CX
	MOVQ 0(DX), R8
	MOVQ 24(DX), R9
	MOVQ 48(DX), R10
	MOVQ 72(DX), R11

zgv64:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $64
	JLT  zgv4
	MOVQ 0(DI), DX
	VMOVUPS (DX)(AX*4), Z0
	VMOVUPS 64(DX)(AX*4), Z4
	VMOVUPS 128(DX)(AX*4), Z8
	VMOVUPS 192(DX)(AX*4), Z12
	MOVQ 24(DI), DX
	VMOVUPS (DX)(AX*4), Z1
	VMOVUPS 64(DX)(AX*4), Z5
	VMOVUPS 128(DX)(AX*4), Z9
	VMOVUPS 192(DX)(AX*4), Z13
	MOVQ 48(DI), DX
	VMOVUPS (DX)(AX*4), Z2
	VMOVUPS 64(DX)(AX*4), Z6
	VMOVUPS 128(DX)(AX*4), Z10
	VMOVUPS 192(DX)(AX*4), Z14
	MOVQ 72(DI), DX
	VMOVUPS (DX)(AX*4), Z3
	VMOVUPS 64(DX)(AX*4), Z7
	VMOVUPS 128(DX)(AX*4), Z11
	VMOVUPS 192(DX)(AX*4), Z15
	LEAQ (SI)(AX*4), R12
	XORQ DX, DX

zgv64row:
	CMPQ DX, BX
	JGE  zgv64store
	VMOVUPS (R12), Z16
	VMOVUPS 64(R12), Z17
	VMOVUPS 128(R12), Z18
	VMOVUPS 192(R12), Z19
	VBROADCASTSS (R8)(DX*4), Z20
	VMULPS Z16, Z20, Z24
	VADDPS Z24, Z0, Z0
	VMULPS Z17, Z20, Z25
	VADDPS Z25, Z4, Z4
	VMULPS Z18, Z20, Z26
	VADDPS Z26, Z8, Z8
	VMULPS Z19, Z20, Z27
	VADDPS Z27, Z12, Z12
	VBROADCASTSS (R9)(DX*4), Z21
	VMULPS Z16, Z21, Z28
	VADDPS Z28, Z1, Z1
	VMULPS Z17, Z21, Z29
	VADDPS Z29, Z5, Z5
	VMULPS Z18, Z21, Z30
	VADDPS Z30, Z9, Z9
	VMULPS Z19, Z21, Z31
	VADDPS Z31, Z13, Z13
	VBROADCASTSS (R10)(DX*4), Z22
	VMULPS Z16, Z22, Z24
	VADDPS Z24, Z2, Z2
	VMULPS Z17, Z22, Z25
	VADDPS Z25, Z6, Z6
	VMULPS Z18, Z22, Z26
	VADDPS Z26, Z10, Z10
	VMULPS Z19, Z22, Z27
	VADDPS Z27, Z14, Z14
	VBROADCASTSS (R11)(DX*4), Z23
	VMULPS Z16, Z23, Z28
	VADDPS Z28, Z3, Z3
	VMULPS Z17, Z23, Z29
	VADDPS Z29, Z7, Z7
	VMULPS Z18, Z23, Z30
	VADDPS Z30, Z11, Z11
	VMULPS Z19, Z23, Z31
	VADDPS Z31, Z15, Z15
	ADDQ R13, R12
	INCQ DX
	JMP  zgv64row

zgv64store:
	MOVQ 0(DI), DX
	VMOVUPS Z0, (DX)(AX*4)
	VMOVUPS Z4, 64(DX)(AX*4)
	VMOVUPS Z8, 128(DX)(AX*4)
	VMOVUPS Z12, 192(DX)(AX*4)
	MOVQ 24(DI), DX
	VMOVUPS Z1, (DX)(AX*4)
	VMOVUPS Z5, 64(DX)(AX*4)
	VMOVUPS Z9, 128(DX)(AX*4)
	VMOVUPS Z13, 192(DX)(AX*4)
	MOVQ 48(DI), DX
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z6, 64(DX)(AX*4)
	VMOVUPS Z10, 128(DX)(AX*4)
	VMOVUPS Z14, 192(DX)(AX*4)
	MOVQ 72(DI), DX
	VMOVUPS Z3, (DX)(AX*4)
	VMOVUPS Z7, 64(DX)(AX*4)
	VMOVUPS Z11, 128(DX)(AX*4)
	VMOVUPS Z15, 192(DX)(AX*4)
	ADDQ $64, AX
	JMP  zgv64

zgv4:
	CMPQ DX, $48
	JLE  zgv3
	MOVQ $0xffff, R12
	CMPQ DX, $64
	JGE  zgv4mask
	SUBQ $48, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zgv4mask:
	KMOVW R12, K1
	MOVQ 0(DI), DX
	VMOVUPS (DX)(AX*4), Z0
	VMOVUPS 64(DX)(AX*4), Z4
	VMOVUPS 128(DX)(AX*4), Z8
	VMOVUPS.Z 192(DX)(AX*4), K1, Z12
	MOVQ 24(DI), DX
	VMOVUPS (DX)(AX*4), Z1
	VMOVUPS 64(DX)(AX*4), Z5
	VMOVUPS 128(DX)(AX*4), Z9
	VMOVUPS.Z 192(DX)(AX*4), K1, Z13
	MOVQ 48(DI), DX
	VMOVUPS (DX)(AX*4), Z2
	VMOVUPS 64(DX)(AX*4), Z6
	VMOVUPS 128(DX)(AX*4), Z10
	VMOVUPS.Z 192(DX)(AX*4), K1, Z14
	MOVQ 72(DI), DX
	VMOVUPS (DX)(AX*4), Z3
	VMOVUPS 64(DX)(AX*4), Z7
	VMOVUPS 128(DX)(AX*4), Z11
	VMOVUPS.Z 192(DX)(AX*4), K1, Z15
	LEAQ (SI)(AX*4), R12
	XORQ DX, DX

zgv4row:
	CMPQ DX, BX
	JGE  zgv4store
	VMOVUPS (R12), Z16
	VMOVUPS 64(R12), Z17
	VMOVUPS 128(R12), Z18
	VMOVUPS.Z 192(R12), K1, Z19
	VBROADCASTSS (R8)(DX*4), Z20
	VMULPS Z16, Z20, Z24
	VADDPS Z24, Z0, Z0
	VMULPS Z17, Z20, Z25
	VADDPS Z25, Z4, Z4
	VMULPS Z18, Z20, Z26
	VADDPS Z26, Z8, Z8
	VMULPS Z19, Z20, Z27
	VADDPS Z27, Z12, Z12
	VBROADCASTSS (R9)(DX*4), Z21
	VMULPS Z16, Z21, Z28
	VADDPS Z28, Z1, Z1
	VMULPS Z17, Z21, Z29
	VADDPS Z29, Z5, Z5
	VMULPS Z18, Z21, Z30
	VADDPS Z30, Z9, Z9
	VMULPS Z19, Z21, Z31
	VADDPS Z31, Z13, Z13
	VBROADCASTSS (R10)(DX*4), Z22
	VMULPS Z16, Z22, Z24
	VADDPS Z24, Z2, Z2
	VMULPS Z17, Z22, Z25
	VADDPS Z25, Z6, Z6
	VMULPS Z18, Z22, Z26
	VADDPS Z26, Z10, Z10
	VMULPS Z19, Z22, Z27
	VADDPS Z27, Z14, Z14
	VBROADCASTSS (R11)(DX*4), Z23
	VMULPS Z16, Z23, Z28
	VADDPS Z28, Z3, Z3
	VMULPS Z17, Z23, Z29
	VADDPS Z29, Z7, Z7
	VMULPS Z18, Z23, Z30
	VADDPS Z30, Z11, Z11
	VMULPS Z19, Z23, Z31
	VADDPS Z31, Z15, Z15
	ADDQ R13, R12
	INCQ DX
	JMP  zgv4row

zgv4store:
	MOVQ 0(DI), DX
	VMOVUPS Z0, (DX)(AX*4)
	VMOVUPS Z4, 64(DX)(AX*4)
	VMOVUPS Z8, 128(DX)(AX*4)
	VMOVUPS Z12, K1, 192(DX)(AX*4)
	MOVQ 24(DI), DX
	VMOVUPS Z1, (DX)(AX*4)
	VMOVUPS Z5, 64(DX)(AX*4)
	VMOVUPS Z9, 128(DX)(AX*4)
	VMOVUPS Z13, K1, 192(DX)(AX*4)
	MOVQ 48(DI), DX
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z6, 64(DX)(AX*4)
	VMOVUPS Z10, 128(DX)(AX*4)
	VMOVUPS Z14, K1, 192(DX)(AX*4)
	MOVQ 72(DI), DX
	VMOVUPS Z3, (DX)(AX*4)
	VMOVUPS Z7, 64(DX)(AX*4)
	VMOVUPS Z11, 128(DX)(AX*4)
	VMOVUPS Z15, K1, 192(DX)(AX*4)
	JMP  zgvdone

zgv3:
	CMPQ DX, $32
	JLE  zgv2
	MOVQ $0xffff, R12
	CMPQ DX, $48
	JGE  zgv3mask
	SUBQ $32, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zgv3mask:
	KMOVW R12, K1
	MOVQ 0(DI), DX
	VMOVUPS (DX)(AX*4), Z0
	VMOVUPS 64(DX)(AX*4), Z4
	VMOVUPS.Z 128(DX)(AX*4), K1, Z8
	MOVQ 24(DI), DX
	VMOVUPS (DX)(AX*4), Z1
	VMOVUPS 64(DX)(AX*4), Z5
	VMOVUPS.Z 128(DX)(AX*4), K1, Z9
	MOVQ 48(DI), DX
	VMOVUPS (DX)(AX*4), Z2
	VMOVUPS 64(DX)(AX*4), Z6
	VMOVUPS.Z 128(DX)(AX*4), K1, Z10
	MOVQ 72(DI), DX
	VMOVUPS (DX)(AX*4), Z3
	VMOVUPS 64(DX)(AX*4), Z7
	VMOVUPS.Z 128(DX)(AX*4), K1, Z11
	LEAQ (SI)(AX*4), R12
	XORQ DX, DX

zgv3row:
	CMPQ DX, BX
	JGE  zgv3store
	VMOVUPS (R12), Z16
	VMOVUPS 64(R12), Z17
	VMOVUPS.Z 128(R12), K1, Z18
	VBROADCASTSS (R8)(DX*4), Z20
	VMULPS Z16, Z20, Z24
	VADDPS Z24, Z0, Z0
	VMULPS Z17, Z20, Z25
	VADDPS Z25, Z4, Z4
	VMULPS Z18, Z20, Z26
	VADDPS Z26, Z8, Z8
	VBROADCASTSS (R9)(DX*4), Z21
	VMULPS Z16, Z21, Z28
	VADDPS Z28, Z1, Z1
	VMULPS Z17, Z21, Z29
	VADDPS Z29, Z5, Z5
	VMULPS Z18, Z21, Z30
	VADDPS Z30, Z9, Z9
	VBROADCASTSS (R10)(DX*4), Z22
	VMULPS Z16, Z22, Z24
	VADDPS Z24, Z2, Z2
	VMULPS Z17, Z22, Z25
	VADDPS Z25, Z6, Z6
	VMULPS Z18, Z22, Z26
	VADDPS Z26, Z10, Z10
	VBROADCASTSS (R11)(DX*4), Z23
	VMULPS Z16, Z23, Z28
	VADDPS Z28, Z3, Z3
	VMULPS Z17, Z23, Z29
	VADDPS Z29, Z7, Z7
	VMULPS Z18, Z23, Z30
	VADDPS Z30, Z11, Z11
	ADDQ R13, R12
	INCQ DX
	JMP  zgv3row

zgv3store:
	MOVQ 0(DI), DX
	VMOVUPS Z0, (DX)(AX*4)
	VMOVUPS Z4, 64(DX)(AX*4)
	VMOVUPS Z8, K1, 128(DX)(AX*4)
	MOVQ 24(DI), DX
	VMOVUPS Z1, (DX)(AX*4)
	VMOVUPS Z5, 64(DX)(AX*4)
	VMOVUPS Z9, K1, 128(DX)(AX*4)
	MOVQ 48(DI), DX
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z6, 64(DX)(AX*4)
	VMOVUPS Z10, K1, 128(DX)(AX*4)
	MOVQ 72(DI), DX
	VMOVUPS Z3, (DX)(AX*4)
	VMOVUPS Z7, 64(DX)(AX*4)
	VMOVUPS Z11, K1, 128(DX)(AX*4)
	JMP  zgvdone

zgv2:
	CMPQ DX, $16
	JLE  zgv1
	MOVQ $0xffff, R12
	CMPQ DX, $32
	JGE  zgv2mask
	SUBQ $16, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zgv2mask:
	KMOVW R12, K1
	MOVQ 0(DI), DX
	VMOVUPS (DX)(AX*4), Z0
	VMOVUPS.Z 64(DX)(AX*4), K1, Z4
	MOVQ 24(DI), DX
	VMOVUPS (DX)(AX*4), Z1
	VMOVUPS.Z 64(DX)(AX*4), K1, Z5
	MOVQ 48(DI), DX
	VMOVUPS (DX)(AX*4), Z2
	VMOVUPS.Z 64(DX)(AX*4), K1, Z6
	MOVQ 72(DI), DX
	VMOVUPS (DX)(AX*4), Z3
	VMOVUPS.Z 64(DX)(AX*4), K1, Z7
	LEAQ (SI)(AX*4), R12
	XORQ DX, DX

zgv2row:
	CMPQ DX, BX
	JGE  zgv2store
	VMOVUPS (R12), Z16
	VMOVUPS.Z 64(R12), K1, Z17
	VBROADCASTSS (R8)(DX*4), Z20
	VMULPS Z16, Z20, Z24
	VADDPS Z24, Z0, Z0
	VMULPS Z17, Z20, Z25
	VADDPS Z25, Z4, Z4
	VBROADCASTSS (R9)(DX*4), Z21
	VMULPS Z16, Z21, Z28
	VADDPS Z28, Z1, Z1
	VMULPS Z17, Z21, Z29
	VADDPS Z29, Z5, Z5
	VBROADCASTSS (R10)(DX*4), Z22
	VMULPS Z16, Z22, Z24
	VADDPS Z24, Z2, Z2
	VMULPS Z17, Z22, Z25
	VADDPS Z25, Z6, Z6
	VBROADCASTSS (R11)(DX*4), Z23
	VMULPS Z16, Z23, Z28
	VADDPS Z28, Z3, Z3
	VMULPS Z17, Z23, Z29
	VADDPS Z29, Z7, Z7
	ADDQ R13, R12
	INCQ DX
	JMP  zgv2row

zgv2store:
	MOVQ 0(DI), DX
	VMOVUPS Z0, (DX)(AX*4)
	VMOVUPS Z4, K1, 64(DX)(AX*4)
	MOVQ 24(DI), DX
	VMOVUPS Z1, (DX)(AX*4)
	VMOVUPS Z5, K1, 64(DX)(AX*4)
	MOVQ 48(DI), DX
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z6, K1, 64(DX)(AX*4)
	MOVQ 72(DI), DX
	VMOVUPS Z3, (DX)(AX*4)
	VMOVUPS Z7, K1, 64(DX)(AX*4)
	JMP  zgvdone

zgv1:
	TESTQ DX, DX
	JLE  zgvdone
	MOVQ $0xffff, R12
	CMPQ DX, $16
	JGE  zgv1mask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zgv1mask:
	KMOVW R12, K1
	MOVQ 0(DI), DX
	VMOVUPS.Z (DX)(AX*4), K1, Z0
	MOVQ 24(DI), DX
	VMOVUPS.Z (DX)(AX*4), K1, Z1
	MOVQ 48(DI), DX
	VMOVUPS.Z (DX)(AX*4), K1, Z2
	MOVQ 72(DI), DX
	VMOVUPS.Z (DX)(AX*4), K1, Z3
	LEAQ (SI)(AX*4), R12
	XORQ DX, DX

zgv1row:
	CMPQ DX, BX
	JGE  zgv1store
	VMOVUPS.Z (R12), K1, Z16
	VBROADCASTSS (R8)(DX*4), Z20
	VMULPS Z16, Z20, Z24
	VADDPS Z24, Z0, Z0
	VBROADCASTSS (R9)(DX*4), Z21
	VMULPS Z16, Z21, Z28
	VADDPS Z28, Z1, Z1
	VBROADCASTSS (R10)(DX*4), Z22
	VMULPS Z16, Z22, Z24
	VADDPS Z24, Z2, Z2
	VBROADCASTSS (R11)(DX*4), Z23
	VMULPS Z16, Z23, Z28
	VADDPS Z28, Z3, Z3
	ADDQ R13, R12
	INCQ DX
	JMP  zgv1row

zgv1store:
	MOVQ 0(DI), DX
	VMOVUPS Z0, K1, (DX)(AX*4)
	MOVQ 24(DI), DX
	VMOVUPS Z1, K1, (DX)(AX*4)
	MOVQ 48(DI), DX
	VMOVUPS Z2, K1, (DX)(AX*4)
	MOVQ 72(DI), DX
	VMOVUPS Z3, K1, (DX)(AX*4)

zgvdone:
	VZEROUPPER
	RET

// func axpy32AVX512(dst, row []float32, s float32)
// dst[i] += s·row[i] for any len(dst), sixteen at a time, the last 1 to
// 15 under a mask.
TEXT ·axpy32AVX512(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ row_base+24(FP), SI
	VBROADCASTSS s+48(FP), Z10
	XORQ AX, AX

zaxloop:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $16
	JLT  zaxtail
	VMULPS  (SI)(AX*4), Z10, Z0
	VADDPS  (DI)(AX*4), Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX
	JMP     zaxloop

zaxtail:
	TESTQ DX, DX
	JZ    zaxdone
	MOVQ  $1, R12
	SHLXQ DX, R12, R12
	DECQ  R12
	KMOVW R12, K1
	VMULPS.Z  (SI)(AX*4), Z10, K1, Z0
	VADDPS.Z  (DI)(AX*4), Z0, K1, Z0
	VMOVUPS   Z0, K1, (DI)(AX*4)

zaxdone:
	VZEROUPPER
	RET

// func addRows32AVX512(dst, m []float32, stride int, idx []int32, val []float32)
// dst[i] += val[k]·m[idx[k]·stride+i] for k = 0, 1, …, len(idx)−1, in
// order, for any len(dst). dst is held in registers 64 columns (then the
// last 1 to 63, see above) at a time while the rows stream past.
TEXT ·addRows32AVX512(SB), NOSPLIT, $0-104
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ m_base+24(FP), SI
	MOVQ stride+48(FP), R13
	SHLQ $2, R13 // row stride of m, in bytes
	MOVQ idx_base+56(FP), R8
	MOVQ idx_len+64(FP), BX
	MOVQ val_base+80(FP), R9
	XORQ AX, AX // column

zar64:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $64
	JLT  zar4
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS 64(DI)(AX*4), Z1
	VMOVUPS 128(DI)(AX*4), Z2
	VMOVUPS 192(DI)(AX*4), Z3
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zar64row:
	CMPQ DX, BX
	JGE  zar64next
	LEAQ 4(DX), R12 // prefetch the block of the row four ahead
	CMPQ R12, BX
	JGE  zarpf
	MOVLQSX (R8)(R12*4), R12
	IMULQ R13, R12
	ADDQ R10, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	PREFETCHT0 192(R12)

zarpf:
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS (R11), Z4, Z5
	VADDPS Z0, Z5, Z0
	VMULPS 64(R11), Z4, Z6
	VADDPS Z1, Z6, Z1
	VMULPS 128(R11), Z4, Z7
	VADDPS Z2, Z7, Z2
	VMULPS 192(R11), Z4, Z8
	VADDPS Z3, Z8, Z3
	INCQ DX
	JMP  zar64row

zar64next:
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, 64(DI)(AX*4)
	VMOVUPS Z2, 128(DI)(AX*4)
	VMOVUPS Z3, 192(DI)(AX*4)
	ADDQ $64, AX
	JMP  zar64

zar4:
	CMPQ DX, $48
	JLE  zar3
	MOVQ $0xffff, R12
	CMPQ DX, $64
	JGE  zar4mask
	SUBQ $48, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zar4mask:
	KMOVW R12, K1
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS 64(DI)(AX*4), Z1
	VMOVUPS 128(DI)(AX*4), Z2
	VMOVUPS.Z 192(DI)(AX*4), K1, Z3
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zar4row:
	CMPQ DX, BX
	JGE  zar4next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS (R11), Z4, Z5
	VADDPS Z0, Z5, Z0
	VMULPS 64(R11), Z4, Z6
	VADDPS Z1, Z6, Z1
	VMULPS 128(R11), Z4, Z7
	VADDPS Z2, Z7, Z2
	VMULPS.Z 192(R11), Z4, K1, Z8
	VADDPS Z3, Z8, Z3
	INCQ DX
	JMP  zar4row

zar4next:
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, 64(DI)(AX*4)
	VMOVUPS Z2, 128(DI)(AX*4)
	VMOVUPS Z3, K1, 192(DI)(AX*4)
	JMP  zardone

zar3:
	CMPQ DX, $32
	JLE  zar2
	MOVQ $0xffff, R12
	CMPQ DX, $48
	JGE  zar3mask
	SUBQ $32, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zar3mask:
	KMOVW R12, K1
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS 64(DI)(AX*4), Z1
	VMOVUPS.Z 128(DI)(AX*4), K1, Z2
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zar3row:
	CMPQ DX, BX
	JGE  zar3next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS (R11), Z4, Z5
	VADDPS Z0, Z5, Z0
	VMULPS 64(R11), Z4, Z6
	VADDPS Z1, Z6, Z1
	VMULPS.Z 128(R11), Z4, K1, Z7
	VADDPS Z2, Z7, Z2
	INCQ DX
	JMP  zar3row

zar3next:
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, 64(DI)(AX*4)
	VMOVUPS Z2, K1, 128(DI)(AX*4)
	JMP  zardone

zar2:
	CMPQ DX, $16
	JLE  zar1
	MOVQ $0xffff, R12
	CMPQ DX, $32
	JGE  zar2mask
	SUBQ $16, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zar2mask:
	KMOVW R12, K1
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS.Z 64(DI)(AX*4), K1, Z1
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zar2row:
	CMPQ DX, BX
	JGE  zar2next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS (R11), Z4, Z5
	VADDPS Z0, Z5, Z0
	VMULPS.Z 64(R11), Z4, K1, Z6
	VADDPS Z1, Z6, Z1
	INCQ DX
	JMP  zar2row

zar2next:
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, K1, 64(DI)(AX*4)
	JMP  zardone

zar1:
	TESTQ DX, DX
	JLE  zardone
	MOVQ $0xffff, R12
	CMPQ DX, $16
	JGE  zar1mask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zar1mask:
	KMOVW R12, K1
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zar1row:
	CMPQ DX, BX
	JGE  zar1next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS.Z (R11), Z4, K1, Z5
	VADDPS Z0, Z5, Z0
	INCQ DX
	JMP  zar1row

zar1next:
	VMOVUPS Z0, K1, (DI)(AX*4)

zardone:
	VZEROUPPER
	RET

// func addOuter32AVX512(m []float32, stride int, idx []int32, val []float32, x []float32)
// m[idx[k]·stride+i] += val[k]·x[i] for k = 0, 1, …, len(idx)−1 and every
// i < len(x): x is held in registers 64 columns (then the last 1 to 63,
// see above) at a time while the rows of m stream past.
TEXT ·addOuter32AVX512(SB), NOSPLIT, $0-104
	MOVQ m_base+0(FP), SI
	MOVQ stride+24(FP), R13
	SHLQ $2, R13 // row stride of m, in bytes
	MOVQ idx_base+32(FP), R8
	MOVQ idx_len+40(FP), BX
	MOVQ val_base+56(FP), R9
	MOVQ x_base+80(FP), DI
	MOVQ x_len+88(FP), CX
	XORQ AX, AX // column

zao64:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $64
	JLT  zao4
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS 64(DI)(AX*4), Z1
	VMOVUPS 128(DI)(AX*4), Z2
	VMOVUPS 192(DI)(AX*4), Z3
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zao64row:
	CMPQ DX, BX
	JGE  zao64next
	LEAQ 4(DX), R12 // prefetch the block of the row four ahead
	CMPQ R12, BX
	JGE  zaopf
	MOVLQSX (R8)(R12*4), R12
	IMULQ R13, R12
	ADDQ R10, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	PREFETCHT0 192(R12)

zaopf:
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS  Z0, Z4, Z5
	VADDPS  (R11), Z5, Z5
	VMOVUPS Z5, (R11)
	VMULPS  Z1, Z4, Z6
	VADDPS  64(R11), Z6, Z6
	VMOVUPS Z6, 64(R11)
	VMULPS  Z2, Z4, Z7
	VADDPS  128(R11), Z7, Z7
	VMOVUPS Z7, 128(R11)
	VMULPS  Z3, Z4, Z8
	VADDPS  192(R11), Z8, Z8
	VMOVUPS Z8, 192(R11)
	INCQ DX
	JMP  zao64row

zao64next:
	ADDQ $64, AX
	JMP  zao64

zao4:
	CMPQ DX, $48
	JLE  zao3
	MOVQ $0xffff, R12
	CMPQ DX, $64
	JGE  zao4mask
	SUBQ $48, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zao4mask:
	KMOVW R12, K1
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS 64(DI)(AX*4), Z1
	VMOVUPS 128(DI)(AX*4), Z2
	VMOVUPS.Z 192(DI)(AX*4), K1, Z3
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zao4row:
	CMPQ DX, BX
	JGE  zao4next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS  Z0, Z4, Z5
	VADDPS  (R11), Z5, Z5
	VMOVUPS Z5, (R11)
	VMULPS  Z1, Z4, Z6
	VADDPS  64(R11), Z6, Z6
	VMOVUPS Z6, 64(R11)
	VMULPS  Z2, Z4, Z7
	VADDPS  128(R11), Z7, Z7
	VMOVUPS Z7, 128(R11)
	VMULPS  Z3, Z4, Z8
	VADDPS.Z 192(R11), Z8, K1, Z8
	VMOVUPS Z8, K1, 192(R11)
	INCQ DX
	JMP  zao4row

zao4next:
	JMP  zaodone

zao3:
	CMPQ DX, $32
	JLE  zao2
	MOVQ $0xffff, R12
	CMPQ DX, $48
	JGE  zao3mask
	SUBQ $32, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zao3mask:
	KMOVW R12, K1
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS 64(DI)(AX*4), Z1
	VMOVUPS.Z 128(DI)(AX*4), K1, Z2
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zao3row:
	CMPQ DX, BX
	JGE  zao3next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS  Z0, Z4, Z5
	VADDPS  (R11), Z5, Z5
	VMOVUPS Z5, (R11)
	VMULPS  Z1, Z4, Z6
	VADDPS  64(R11), Z6, Z6
	VMOVUPS Z6, 64(R11)
	VMULPS  Z2, Z4, Z7
	VADDPS.Z 128(R11), Z7, K1, Z7
	VMOVUPS Z7, K1, 128(R11)
	INCQ DX
	JMP  zao3row

zao3next:
	JMP  zaodone

zao2:
	CMPQ DX, $16
	JLE  zao1
	MOVQ $0xffff, R12
	CMPQ DX, $32
	JGE  zao2mask
	SUBQ $16, DX
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zao2mask:
	KMOVW R12, K1
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS.Z 64(DI)(AX*4), K1, Z1
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zao2row:
	CMPQ DX, BX
	JGE  zao2next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS  Z0, Z4, Z5
	VADDPS  (R11), Z5, Z5
	VMOVUPS Z5, (R11)
	VMULPS  Z1, Z4, Z6
	VADDPS.Z 64(R11), Z6, K1, Z6
	VMOVUPS Z6, K1, 64(R11)
	INCQ DX
	JMP  zao2row

zao2next:
	JMP  zaodone

zao1:
	TESTQ DX, DX
	JLE  zaodone
	MOVQ $0xffff, R12
	CMPQ DX, $16
	JGE  zao1mask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zao1mask:
	KMOVW R12, K1
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	LEAQ (SI)(AX*4), R10
	XORQ DX, DX

zao1row:
	CMPQ DX, BX
	JGE  zao1next
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSS (R9)(DX*4), Z4
	VMULPS  Z0, Z4, Z5
	VADDPS.Z (R11), Z5, K1, Z5
	VMOVUPS Z5, K1, (R11)
	INCQ DX
	JMP  zao1row

zao1next:

zaodone:
	VZEROUPPER
	RET

DATA lif32idx<>+0(SB)/4, $0
DATA lif32idx<>+4(SB)/4, $1
DATA lif32idx<>+8(SB)/4, $2
DATA lif32idx<>+12(SB)/4, $3
DATA lif32idx<>+16(SB)/4, $4
DATA lif32idx<>+20(SB)/4, $5
DATA lif32idx<>+24(SB)/4, $6
DATA lif32idx<>+28(SB)/4, $7
DATA lif32idx<>+32(SB)/4, $8
DATA lif32idx<>+36(SB)/4, $9
DATA lif32idx<>+40(SB)/4, $10
DATA lif32idx<>+44(SB)/4, $11
DATA lif32idx<>+48(SB)/4, $12
DATA lif32idx<>+52(SB)/4, $13
DATA lif32idx<>+56(SB)/4, $14
DATA lif32idx<>+60(SB)/4, $15
GLOBL lif32idx<>(SB), RODATA|NOPTR, $64

// func lifStep32AVX512(u, cur []float32, lm, cm, lsyn, theta float32, idx []int32) int
// lifStepAVX512 sixteen neurons at a time: without branches on the
// spikes, the indices of a chunk's spiking neurons compressed
// (VPCOMPRESSD) and all sixteen lanes stored, of which the next chunk
// overwrites those past the spikes (a chunk's stores end at most at its
// own last neuron, and idx has room for len(u)). The last 1 to 15 neurons
// run under a mask and store their indices under a mask of their count;
// no masked store in the loop (see lifStepAVX512).
TEXT ·lifStep32AVX512(SB), NOSPLIT, $0-96
	MOVQ u_base+0(FP), SI
	MOVQ u_len+8(FP), CX
	MOVQ cur_base+24(FP), DI
	MOVQ idx_base+64(FP), R8
	VBROADCASTSS lm+48(FP), Z10
	VBROADCASTSS cm+52(FP), Z11
	VBROADCASTSS lsyn+56(FP), Z12
	VBROADCASTSS theta+60(FP), Z13
	VMOVDQU32 lif32idx<>(SB), Z4 // neuron indices of the chunk
	MOVL $16, AX
	VMOVD AX, X6
	VPBROADCASTD X6, Z6
	XORQ AX, AX
	XORQ DX, DX

zl32loop:
	MOVQ CX, BX
	SUBQ AX, BX
	CMPQ BX, $16
	JLT  zl32tail
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS (DI)(AX*4), Z1
	VMULPS  Z10, Z0, Z2
	VMULPS  Z11, Z1, Z3
	VADDPS  Z3, Z2, Z2
	VCMPPS  $0x1e, Z13, Z0, K1 // u > theta (GT_OQ: false for NaN)
	VPXORD  Z2, Z2, K1, Z2     // 0 where spiking
	VMOVUPS Z2, (SI)(AX*4)
	VMULPS  Z12, Z1, Z1
	VMOVUPS Z1, (DI)(AX*4)
	VPCOMPRESSD Z4, K1, Z5
	VMOVDQU32 Z5, (R8)(DX*4)
	KMOVW   K1, BX
	POPCNTL BX, BX
	ADDQ    BX, DX
	VPADDD  Z6, Z4, Z4
	ADDQ    $16, AX
	JMP     zl32loop

zl32tail:
	TESTQ BX, BX
	JLE   zl32done
	MOVQ  $1, R12
	SHLXQ BX, R12, R12
	DECQ  R12
	KMOVW R12, K2
	VMOVUPS.Z (SI)(AX*4), K2, Z0
	VMOVUPS.Z (DI)(AX*4), K2, Z1
	VMULPS  Z10, Z0, Z2
	VMULPS  Z11, Z1, Z3
	VADDPS  Z3, Z2, Z2
	VCMPPS  $0x1e, Z13, Z0, K2, K1
	VPXORD  Z2, Z2, K1, Z2
	VMOVUPS Z2, K2, (SI)(AX*4)
	VMULPS  Z12, Z1, Z1
	VMOVUPS Z1, K2, (DI)(AX*4)
	VPCOMPRESSD Z4, K1, Z5
	KMOVW   K1, BX
	POPCNTL BX, BX
	TESTQ   BX, BX
	JZ      zl32done
	MOVL    $1, R12
	SHLXL   BX, R12, R12
	DECL    R12
	KMOVW   R12, K3
	VMOVDQU32 Z5, K3, (R8)(DX*4)
	ADDQ    BX, DX

zl32done:
	MOVQ DX, ret+88(FP)
	VZEROUPPER
	RET

// func backwardTop32AVX512(gu, gi, h, gs, pi, pu []float32, lm, cm, lsyn, lo, co float32)
// backwardTopAVX2 sixteen neurons at a time, the last 1 to 15 under a
// mask.
TEXT ·backwardTop32AVX512(SB), NOSPLIT, $0-164
	MOVQ gu_base+0(FP), R8
	MOVQ gu_len+8(FP), CX
	MOVQ gi_base+24(FP), R9
	MOVQ h_base+48(FP), R10
	MOVQ gs_base+72(FP), R11
	MOVQ pi_base+96(FP), R12
	MOVQ pu_base+120(FP), R13
	VBROADCASTSS lm+144(FP), Z10
	VBROADCASTSS cm+148(FP), Z11
	VBROADCASTSS lsyn+152(FP), Z12
	VBROADCASTSS lo+156(FP), Z13
	VBROADCASTSS co+160(FP), Z14
	XORQ AX, AX

zbtloop:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  zbtdone
	MOVQ $0xffff, BX
	CMPQ DX, $16
	JGE  zbtmask
	MOVQ $1, BX
	SHLXQ DX, BX, BX
	DECQ BX

zbtmask:
	KMOVW BX, K1
	VMOVUPS.Z (R8)(AX*4), K1, Z0  // g
	VMOVUPS.Z (R12)(AX*4), K1, Z1 // pi
	VMOVUPS.Z (R11)(AX*4), K1, Z2 // gs
	VADDPS  Z1, Z2, Z2
	VMOVUPS.Z (R10)(AX*4), K1, Z3 // h
	VMULPS  Z2, Z3, Z3
	VMULPS  Z10, Z0, Z4
	VADDPS  Z3, Z4, Z4
	VMOVUPS Z4, K1, (R8)(AX*4)
	VMOVUPS.Z (R9)(AX*4), K1, Z5 // gi
	VMULPS  Z12, Z5, Z5
	VMULPS  Z11, Z0, Z6
	VADDPS  Z5, Z6, Z6
	VMOVUPS Z6, K1, (R9)(AX*4)
	VMOVUPS.Z (R13)(AX*4), K1, Z7 // pu
	VMULPS  Z12, Z1, Z1
	VMULPS  Z14, Z7, Z8
	VADDPS  Z8, Z1, Z1
	VMOVUPS Z1, K1, (R12)(AX*4)
	VMULPS  Z13, Z7, Z7
	VMOVUPS Z7, K1, (R13)(AX*4)
	ADDQ    $16, AX
	JMP     zbtloop

zbtdone:
	VZEROUPPER
	RET

// func backwardInner32AVX512(gu, gi, h, gs []float32, lm, cm, lsyn float32)
// backwardInnerAVX2 sixteen neurons at a time, the last 1 to 15 under a
// mask.
TEXT ·backwardInner32AVX512(SB), NOSPLIT, $0-108
	MOVQ gu_base+0(FP), R8
	MOVQ gu_len+8(FP), CX
	MOVQ gi_base+24(FP), R9
	MOVQ h_base+48(FP), R10
	MOVQ gs_base+72(FP), R11
	VBROADCASTSS lm+96(FP), Z10
	VBROADCASTSS cm+100(FP), Z11
	VBROADCASTSS lsyn+104(FP), Z12
	XORQ AX, AX

zbiloop:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  zbidone
	MOVQ $0xffff, BX
	CMPQ DX, $16
	JGE  zbimask
	MOVQ $1, BX
	SHLXQ DX, BX, BX
	DECQ BX

zbimask:
	KMOVW BX, K1
	VMOVUPS.Z (R8)(AX*4), K1, Z0  // g
	VMOVUPS.Z (R11)(AX*4), K1, Z2 // gs
	VMOVUPS.Z (R10)(AX*4), K1, Z3 // h
	VMULPS  Z2, Z3, Z3
	VMULPS  Z10, Z0, Z4
	VADDPS  Z3, Z4, Z4
	VMOVUPS Z4, K1, (R8)(AX*4)
	VMOVUPS.Z (R9)(AX*4), K1, Z5 // gi
	VMULPS  Z12, Z5, Z5
	VMULPS  Z11, Z0, Z6
	VADDPS  Z5, Z6, Z6
	VMOVUPS Z6, K1, (R9)(AX*4)
	ADDQ    $16, AX
	JMP     zbiloop

zbidone:
	VZEROUPPER
	RET
