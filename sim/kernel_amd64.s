//go:build amd64 && !purego

#include "textflag.h"

// Assembly versions of the kernels in kernel.go. The AVX2 ones process
// len/4 groups of four float64 (the caller passes a multiple of 4), the
// AVX-512 ones eight at a time, most of them with the last 1 to 7 under
// a mask (any length). Each does exactly the IEEE operations of its Go
// version, in the same order, without FMA, except the exp kernels, which
// use the fused multiply-adds of math.Exp's own FMA variant, in its order.

// func lifStepAVX2(u, cur []float64, lm, cm, lsyn, theta float64, idx []int32) int
TEXT ·lifStepAVX2(SB), NOSPLIT, $0-112
	MOVQ u_base+0(FP), SI
	MOVQ u_len+8(FP), CX
	MOVQ cur_base+24(FP), DI
	MOVQ idx_base+80(FP), R8
	VBROADCASTSD lm+48(FP), Y10
	VBROADCASTSD cm+56(FP), Y11
	VBROADCASTSD lsyn+64(FP), Y12
	VBROADCASTSD theta+72(FP), Y13
	XORQ AX, AX
	XORQ DX, DX

lifloop:
	CMPQ AX, CX
	JGE  lifdone
	VMOVUPD (SI)(AX*8), Y0
	VMOVUPD (DI)(AX*8), Y1
	VMULPD  Y10, Y0, Y2
	VMULPD  Y11, Y1, Y3
	VADDPD  Y3, Y2, Y2
	VCMPPD  $0x1e, Y13, Y0, Y4 // u > theta (GT_OQ: false for NaN)
	VANDNPD Y2, Y4, Y2         // 0 where spiking
	VMOVUPD Y2, (SI)(AX*8)
	VMULPD  Y12, Y1, Y1
	VMOVUPD Y1, (DI)(AX*8)
	VMOVMSKPD Y4, BX
	TESTQ   BX, BX
	JZ      lifnext

lifbits:
	BSFQ BX, R9
	LEAQ (AX)(R9*1), R10
	MOVL R10, (R8)(DX*4)
	INCQ DX
	LEAQ -1(BX), R11
	ANDQ R11, BX
	JNZ  lifbits

lifnext:
	ADDQ $4, AX
	JMP  lifloop

lifdone:
	MOVQ DX, ret+104(FP)
	VZEROUPPER
	RET

// func superspikeAVX2(dst, u []float64, theta, beta, num float64)
// Two at a time (len(dst) is even): on the machines measured, 128-bit
// VDIVPD is several times faster per element than the 256-bit one.
TEXT ·superspikeAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ u_base+24(FP), SI
	VMOVDDUP theta+48(FP), X10
	VMOVDDUP beta+56(FP), X11
	VMOVDDUP num+64(FP), X12
	VPCMPEQQ X13, X13, X13
	VPSRLQ   $1, X13, X13 // sign-bit clear mask
	MOVQ     $0x3FF0000000000000, AX
	MOVQ     AX, X14
	VMOVDDUP X14, X14 // 1.0
	XORQ AX, AX

ssloop:
	CMPQ AX, CX
	JGE  ssdone
	VMOVUPD (SI)(AX*8), X0
	VSUBPD  X10, X0, X0
	VANDPD  X13, X0, X0
	VMULPD  X11, X0, X0
	VADDPD  X14, X0, X0
	VMULPD  X0, X0, X0
	VDIVPD  X0, X12, X0
	VMOVUPD X0, (DI)(AX*8)
	ADDQ    $2, AX
	JMP     ssloop

ssdone:
	RET

// func backwardTopAVX2(gu, gi, h, gs, pi, pu []float64, lm, cm, lsyn, lo, co float64)
TEXT ·backwardTopAVX2(SB), NOSPLIT, $0-184
	MOVQ gu_base+0(FP), R8
	MOVQ gu_len+8(FP), CX
	MOVQ gi_base+24(FP), R9
	MOVQ h_base+48(FP), R10
	MOVQ gs_base+72(FP), R11
	MOVQ pi_base+96(FP), R12
	MOVQ pu_base+120(FP), R13
	VBROADCASTSD lm+144(FP), Y10
	VBROADCASTSD cm+152(FP), Y11
	VBROADCASTSD lsyn+160(FP), Y12
	VBROADCASTSD lo+168(FP), Y13
	VBROADCASTSD co+176(FP), Y14
	XORQ AX, AX

btloop:
	CMPQ AX, CX
	JGE  btdone
	VMOVUPD (R8)(AX*8), Y0  // g
	VMOVUPD (R12)(AX*8), Y1 // pi
	VMOVUPD (R11)(AX*8), Y2 // gs
	VADDPD  Y1, Y2, Y2
	VMOVUPD (R10)(AX*8), Y3 // h
	VMULPD  Y2, Y3, Y3
	VMULPD  Y10, Y0, Y4
	VADDPD  Y3, Y4, Y4
	VMOVUPD Y4, (R8)(AX*8)
	VMOVUPD (R9)(AX*8), Y5 // gi
	VMULPD  Y12, Y5, Y5
	VMULPD  Y11, Y0, Y6
	VADDPD  Y5, Y6, Y6
	VMOVUPD Y6, (R9)(AX*8)
	VMOVUPD (R13)(AX*8), Y7 // pu
	VMULPD  Y12, Y1, Y1
	VMULPD  Y14, Y7, Y8
	VADDPD  Y8, Y1, Y1
	VMOVUPD Y1, (R12)(AX*8)
	VMULPD  Y13, Y7, Y7
	VMOVUPD Y7, (R13)(AX*8)
	ADDQ    $4, AX
	JMP     btloop

btdone:
	VZEROUPPER
	RET

// func backwardInnerAVX2(gu, gi, h, gs []float64, lm, cm, lsyn float64)
TEXT ·backwardInnerAVX2(SB), NOSPLIT, $0-120
	MOVQ gu_base+0(FP), R8
	MOVQ gu_len+8(FP), CX
	MOVQ gi_base+24(FP), R9
	MOVQ h_base+48(FP), R10
	MOVQ gs_base+72(FP), R11
	VBROADCASTSD lm+96(FP), Y10
	VBROADCASTSD cm+104(FP), Y11
	VBROADCASTSD lsyn+112(FP), Y12
	XORQ AX, AX

biloop:
	CMPQ AX, CX
	JGE  bidone
	VMOVUPD (R8)(AX*8), Y0  // g
	VMOVUPD (R11)(AX*8), Y2 // gs
	VMOVUPD (R10)(AX*8), Y3 // h
	VMULPD  Y2, Y3, Y3
	VMULPD  Y10, Y0, Y4
	VADDPD  Y3, Y4, Y4
	VMOVUPD Y4, (R8)(AX*8)
	VMOVUPD (R9)(AX*8), Y5 // gi
	VMULPD  Y12, Y5, Y5
	VMULPD  Y11, Y0, Y6
	VADDPD  Y5, Y6, Y6
	VMOVUPD Y6, (R9)(AX*8)
	ADDQ    $4, AX
	JMP     biloop

bidone:
	VZEROUPPER
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	BYTE $0x0f; BYTE $0x01; BYTE $0xd0 // XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func gemvT4AVX2(dst *[4][]float64, mt []float64, x *[4][]float64, rows, cols, from, to int)
// For four samples s and columns j in [from, to), four at a time:
// dst[s][j] += x[s][i]·mt[i·cols+j] for i = 0, 1, …, rows−1, in order.
TEXT ·gemvT4AVX2(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), DI
	MOVQ mt_base+8(FP), SI
	MOVQ x+32(FP), DX
	MOVQ rows+40(FP), BX
	MOVQ cols+48(FP), R13
	SHLQ $3, R13 // row stride of mt, in bytes
	MOVQ from+56(FP), AX
	MOVQ to+64(FP), CX
	MOVQ 0(DX), R8
	MOVQ 24(DX), R9
	MOVQ 48(DX), R10
	MOVQ 72(DX), R11

gvchunk:
	CMPQ AX, CX
	JGE  gvdone
	MOVQ 0(DI), DX
	VMOVUPD (DX)(AX*8), Y0
	MOVQ 24(DI), DX
	VMOVUPD (DX)(AX*8), Y1
	MOVQ 48(DI), DX
	VMOVUPD (DX)(AX*8), Y2
	MOVQ 72(DI), DX
	VMOVUPD (DX)(AX*8), Y3
	LEAQ (SI)(AX*8), R12
	XORQ DX, DX

gvrow:
	CMPQ DX, BX
	JGE  gvstore
	VMOVUPD (R12), Y4
	VBROADCASTSD (R8)(DX*8), Y5
	VMULPD Y4, Y5, Y5
	VADDPD Y5, Y0, Y0
	VBROADCASTSD (R9)(DX*8), Y6
	VMULPD Y4, Y6, Y6
	VADDPD Y6, Y1, Y1
	VBROADCASTSD (R10)(DX*8), Y7
	VMULPD Y4, Y7, Y7
	VADDPD Y7, Y2, Y2
	VBROADCASTSD (R11)(DX*8), Y8
	VMULPD Y4, Y8, Y8
	VADDPD Y8, Y3, Y3
	ADDQ R13, R12
	INCQ DX
	JMP  gvrow

gvstore:
	MOVQ 0(DI), DX
	VMOVUPD Y0, (DX)(AX*8)
	MOVQ 24(DI), DX
	VMOVUPD Y1, (DX)(AX*8)
	MOVQ 48(DI), DX
	VMOVUPD Y2, (DX)(AX*8)
	MOVQ 72(DI), DX
	VMOVUPD Y3, (DX)(AX*8)
	ADDQ $4, AX
	JMP  gvchunk

gvdone:
	VZEROUPPER
	RET

// func gemvT4AVX512(dst *[4][]float64, mt []float64, x *[4][]float64, rows, cols, from, to int)
// gemvT4AVX2 with AVX-512: sixteen columns at a time (eight accumulators,
// so that each broadcast of x[s][i] serves two), then eight.
TEXT ·gemvT4AVX512(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), DI
	MOVQ mt_base+8(FP), SI
	MOVQ x+32(FP), DX
	MOVQ rows+40(FP), BX
	MOVQ cols+48(FP), R13
	SHLQ $3, R13 // row stride of mt, in bytes
	MOVQ from+56(FP), AX
	MOVQ to+64(FP), CX
	MOVQ 0(DX), R8
	MOVQ 24(DX), R9
	MOVQ 48(DX), R10
	MOVQ 72(DX), R11

zvchunk16:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $16
	JLT  zvchunk
	MOVQ 0(DI), DX
	VMOVUPD (DX)(AX*8), Z0
	VMOVUPD 64(DX)(AX*8), Z16
	MOVQ 24(DI), DX
	VMOVUPD (DX)(AX*8), Z1
	VMOVUPD 64(DX)(AX*8), Z17
	MOVQ 48(DI), DX
	VMOVUPD (DX)(AX*8), Z2
	VMOVUPD 64(DX)(AX*8), Z18
	MOVQ 72(DI), DX
	VMOVUPD (DX)(AX*8), Z3
	VMOVUPD 64(DX)(AX*8), Z19
	LEAQ (SI)(AX*8), R12
	XORQ DX, DX

zvrow16:
	CMPQ DX, BX
	JGE  zvstore16
	VMOVUPD (R12), Z4
	VMOVUPD 64(R12), Z9
	VBROADCASTSD (R8)(DX*8), Z5
	VMULPD Z4, Z5, Z20
	VADDPD Z20, Z0, Z0
	VMULPD Z9, Z5, Z24
	VADDPD Z24, Z16, Z16
	VBROADCASTSD (R9)(DX*8), Z6
	VMULPD Z4, Z6, Z21
	VADDPD Z21, Z1, Z1
	VMULPD Z9, Z6, Z25
	VADDPD Z25, Z17, Z17
	VBROADCASTSD (R10)(DX*8), Z7
	VMULPD Z4, Z7, Z22
	VADDPD Z22, Z2, Z2
	VMULPD Z9, Z7, Z26
	VADDPD Z26, Z18, Z18
	VBROADCASTSD (R11)(DX*8), Z8
	VMULPD Z4, Z8, Z23
	VADDPD Z23, Z3, Z3
	VMULPD Z9, Z8, Z27
	VADDPD Z27, Z19, Z19
	ADDQ R13, R12
	INCQ DX
	JMP  zvrow16

zvstore16:
	MOVQ 0(DI), DX
	VMOVUPD Z0, (DX)(AX*8)
	VMOVUPD Z16, 64(DX)(AX*8)
	MOVQ 24(DI), DX
	VMOVUPD Z1, (DX)(AX*8)
	VMOVUPD Z17, 64(DX)(AX*8)
	MOVQ 48(DI), DX
	VMOVUPD Z2, (DX)(AX*8)
	VMOVUPD Z18, 64(DX)(AX*8)
	MOVQ 72(DI), DX
	VMOVUPD Z3, (DX)(AX*8)
	VMOVUPD Z19, 64(DX)(AX*8)
	ADDQ $16, AX
	JMP  zvchunk16

zvchunk:
	CMPQ AX, CX
	JGE  zvdone
	MOVQ 0(DI), DX
	VMOVUPD (DX)(AX*8), Z0
	MOVQ 24(DI), DX
	VMOVUPD (DX)(AX*8), Z1
	MOVQ 48(DI), DX
	VMOVUPD (DX)(AX*8), Z2
	MOVQ 72(DI), DX
	VMOVUPD (DX)(AX*8), Z3
	LEAQ (SI)(AX*8), R12
	XORQ DX, DX

zvrow:
	CMPQ DX, BX
	JGE  zvstore
	VMOVUPD (R12), Z4
	VBROADCASTSD (R8)(DX*8), Z5
	VMULPD Z4, Z5, Z5
	VADDPD Z5, Z0, Z0
	VBROADCASTSD (R9)(DX*8), Z6
	VMULPD Z4, Z6, Z6
	VADDPD Z6, Z1, Z1
	VBROADCASTSD (R10)(DX*8), Z7
	VMULPD Z4, Z7, Z7
	VADDPD Z7, Z2, Z2
	VBROADCASTSD (R11)(DX*8), Z8
	VMULPD Z4, Z8, Z8
	VADDPD Z8, Z3, Z3
	ADDQ R13, R12
	INCQ DX
	JMP  zvrow

zvstore:
	MOVQ 0(DI), DX
	VMOVUPD Z0, (DX)(AX*8)
	MOVQ 24(DI), DX
	VMOVUPD Z1, (DX)(AX*8)
	MOVQ 48(DI), DX
	VMOVUPD Z2, (DX)(AX*8)
	MOVQ 72(DI), DX
	VMOVUPD Z3, (DX)(AX*8)
	ADDQ $8, AX
	JMP  zvchunk

zvdone:
	VZEROUPPER
	RET

// func axpyAVX2(dst, row []float64, s float64)
// dst[i] += s·row[i]; len(dst) is a multiple of 4.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ row_base+24(FP), SI
	VBROADCASTSD s+48(FP), Y10
	XORQ AX, AX

axpyloop:
	CMPQ AX, CX
	JGE  axpydone
	VMULPD  (SI)(AX*8), Y10, Y0
	VADDPD  (DI)(AX*8), Y0, Y0
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ    $4, AX
	JMP     axpyloop

axpydone:
	VZEROUPPER
	RET

// func addRowsAVX512(dst, m []float64, stride int, idx []int32, val []float64)
// dst[i] += val[k]·m[idx[k]·stride+i] for k = 0, 1, …, len(idx)−1, in
// order, for any len(dst). dst is held in registers 32 columns (then 8,
// then the last 1 to 7 under a mask) at a time while the rows stream past.
TEXT ·addRowsAVX512(SB), NOSPLIT, $0-104
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ m_base+24(FP), SI
	MOVQ stride+48(FP), R13
	SHLQ $3, R13 // row stride of m, in bytes
	MOVQ idx_base+56(FP), R8
	MOVQ idx_len+64(FP), BX
	MOVQ val_base+80(FP), R9
	XORQ AX, AX // column

arblock32:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $32
	JLT  arblock8
	VMOVUPD (DI)(AX*8), Z0
	VMOVUPD 64(DI)(AX*8), Z1
	VMOVUPD 128(DI)(AX*8), Z2
	VMOVUPD 192(DI)(AX*8), Z3
	LEAQ (SI)(AX*8), R10
	XORQ DX, DX

arrow32:
	CMPQ DX, BX
	JGE  arstore32
	LEAQ 4(DX), R12 // prefetch the block of the row four ahead
	CMPQ R12, BX
	JGE  arpf
	MOVLQSX (R8)(R12*4), R12
	IMULQ R13, R12
	ADDQ R10, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	PREFETCHT0 192(R12)

arpf:
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSD (R9)(DX*8), Z4
	VMULPD (R11), Z4, Z5
	VADDPD Z0, Z5, Z0
	VMULPD 64(R11), Z4, Z6
	VADDPD Z1, Z6, Z1
	VMULPD 128(R11), Z4, Z7
	VADDPD Z2, Z7, Z2
	VMULPD 192(R11), Z4, Z8
	VADDPD Z3, Z8, Z3
	INCQ DX
	JMP  arrow32

arstore32:
	VMOVUPD Z0, (DI)(AX*8)
	VMOVUPD Z1, 64(DI)(AX*8)
	VMOVUPD Z2, 128(DI)(AX*8)
	VMOVUPD Z3, 192(DI)(AX*8)
	ADDQ $32, AX
	JMP  arblock32

arblock8:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  ardone
	MOVQ $0xff, R12 // mask of the columns AX … AX+7 that exist
	CMPQ DX, $8
	JGE  armask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

armask:
	KMOVW R12, K1
	VMOVUPD.Z (DI)(AX*8), K1, Z0
	LEAQ (SI)(AX*8), R10
	XORQ DX, DX

arrow8:
	CMPQ DX, BX
	JGE  arstore8
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	VBROADCASTSD (R9)(DX*8), Z4
	VMULPD.Z (R10)(R11*1), Z4, K1, Z5
	VADDPD Z0, Z5, Z0
	INCQ DX
	JMP  arrow8

arstore8:
	VMOVUPD Z0, K1, (DI)(AX*8)
	ADDQ $8, AX
	JMP  arblock8

ardone:
	VZEROUPPER
	RET

// func axpyAVX512(dst, row []float64, s float64)
// dst[i] += s·row[i] for any len(dst), eight at a time, the last 1 to 7
// under a mask.
TEXT ·axpyAVX512(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ row_base+24(FP), SI
	VBROADCASTSD s+48(FP), Z10
	XORQ AX, AX

zaxpyloop:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $8
	JLT  zaxpytail
	VMULPD  (SI)(AX*8), Z10, Z0
	VADDPD  (DI)(AX*8), Z0, Z0
	VMOVUPD Z0, (DI)(AX*8)
	ADDQ    $8, AX
	JMP     zaxpyloop

zaxpytail:
	TESTQ DX, DX
	JZ    zaxpydone
	MOVQ  $1, R12
	SHLXQ DX, R12, R12
	DECQ  R12
	KMOVW R12, K1
	VMULPD.Z  (SI)(AX*8), Z10, K1, Z0
	VADDPD.Z  (DI)(AX*8), Z0, K1, Z0
	VMOVUPD   Z0, K1, (DI)(AX*8)

zaxpydone:
	VZEROUPPER
	RET

// The constants of math.Exp's amd64 assembly (exp_amd64.s in the Go
// distribution, after Shibata's SLEEF), four copies each, then the int32
// constants of its exponent arithmetic, four copies each.
DATA expvec<>+0(SB)/8, $1.4426950408889634073599246810018920
DATA expvec<>+8(SB)/8, $1.4426950408889634073599246810018920
DATA expvec<>+16(SB)/8, $1.4426950408889634073599246810018920
DATA expvec<>+24(SB)/8, $1.4426950408889634073599246810018920
DATA expvec<>+32(SB)/8, $0.69314718055966295651160180568695068359375
DATA expvec<>+40(SB)/8, $0.69314718055966295651160180568695068359375
DATA expvec<>+48(SB)/8, $0.69314718055966295651160180568695068359375
DATA expvec<>+56(SB)/8, $0.69314718055966295651160180568695068359375
DATA expvec<>+64(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA expvec<>+72(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA expvec<>+80(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA expvec<>+88(SB)/8, $0.28235290563031577122588448175013436025525412068e-12
DATA expvec<>+96(SB)/8, $0.0625
DATA expvec<>+104(SB)/8, $0.0625
DATA expvec<>+112(SB)/8, $0.0625
DATA expvec<>+120(SB)/8, $0.0625
DATA expvec<>+128(SB)/8, $2.4801587301587301587e-5
DATA expvec<>+136(SB)/8, $2.4801587301587301587e-5
DATA expvec<>+144(SB)/8, $2.4801587301587301587e-5
DATA expvec<>+152(SB)/8, $2.4801587301587301587e-5
DATA expvec<>+160(SB)/8, $1.9841269841269841270e-4
DATA expvec<>+168(SB)/8, $1.9841269841269841270e-4
DATA expvec<>+176(SB)/8, $1.9841269841269841270e-4
DATA expvec<>+184(SB)/8, $1.9841269841269841270e-4
DATA expvec<>+192(SB)/8, $1.3888888888888888889e-3
DATA expvec<>+200(SB)/8, $1.3888888888888888889e-3
DATA expvec<>+208(SB)/8, $1.3888888888888888889e-3
DATA expvec<>+216(SB)/8, $1.3888888888888888889e-3
DATA expvec<>+224(SB)/8, $8.3333333333333333333e-3
DATA expvec<>+232(SB)/8, $8.3333333333333333333e-3
DATA expvec<>+240(SB)/8, $8.3333333333333333333e-3
DATA expvec<>+248(SB)/8, $8.3333333333333333333e-3
DATA expvec<>+256(SB)/8, $4.1666666666666666667e-2
DATA expvec<>+264(SB)/8, $4.1666666666666666667e-2
DATA expvec<>+272(SB)/8, $4.1666666666666666667e-2
DATA expvec<>+280(SB)/8, $4.1666666666666666667e-2
DATA expvec<>+288(SB)/8, $1.6666666666666666667e-1
DATA expvec<>+296(SB)/8, $1.6666666666666666667e-1
DATA expvec<>+304(SB)/8, $1.6666666666666666667e-1
DATA expvec<>+312(SB)/8, $1.6666666666666666667e-1
DATA expvec<>+320(SB)/8, $0.5
DATA expvec<>+328(SB)/8, $0.5
DATA expvec<>+336(SB)/8, $0.5
DATA expvec<>+344(SB)/8, $0.5
DATA expvec<>+352(SB)/8, $1.0
DATA expvec<>+360(SB)/8, $1.0
DATA expvec<>+368(SB)/8, $1.0
DATA expvec<>+376(SB)/8, $1.0
DATA expvec<>+384(SB)/8, $2.0
DATA expvec<>+392(SB)/8, $2.0
DATA expvec<>+400(SB)/8, $2.0
DATA expvec<>+408(SB)/8, $2.0
DATA expvec<>+416(SB)/8, $7.09782712893384e+02
DATA expvec<>+424(SB)/8, $7.09782712893384e+02
DATA expvec<>+432(SB)/8, $7.09782712893384e+02
DATA expvec<>+440(SB)/8, $7.09782712893384e+02
DATA expvec<>+448(SB)/8, $0x7FF0000000000000
DATA expvec<>+456(SB)/8, $0x7FF0000000000000
DATA expvec<>+464(SB)/8, $0x7FF0000000000000
DATA expvec<>+472(SB)/8, $0x7FF0000000000000
DATA expvec<>+480(SB)/8, $0x0010000000000000
DATA expvec<>+488(SB)/8, $0x0010000000000000
DATA expvec<>+496(SB)/8, $0x0010000000000000
DATA expvec<>+504(SB)/8, $0x0010000000000000
DATA expvec<>+512(SB)/4, $1023
DATA expvec<>+516(SB)/4, $1023
DATA expvec<>+520(SB)/4, $1023
DATA expvec<>+524(SB)/4, $1023
DATA expvec<>+528(SB)/4, $1022
DATA expvec<>+532(SB)/4, $1022
DATA expvec<>+536(SB)/4, $1022
DATA expvec<>+540(SB)/4, $1022
DATA expvec<>+544(SB)/4, $1
DATA expvec<>+548(SB)/4, $1
DATA expvec<>+552(SB)/4, $1
DATA expvec<>+556(SB)/4, $1
DATA expvec<>+560(SB)/4, $-52
DATA expvec<>+564(SB)/4, $-52
DATA expvec<>+568(SB)/4, $-52
DATA expvec<>+572(SB)/4, $-52
DATA expvec<>+576(SB)/4, $2046
DATA expvec<>+580(SB)/4, $2046
DATA expvec<>+584(SB)/4, $2046
DATA expvec<>+588(SB)/4, $2046
GLOBL expvec<>(SB), RODATA|NOPTR, $592

// func expAVX2(dst, x []float64)
// dst[i] = math.Exp(x[i]), bit for bit, four at a time (len(dst) is a
// multiple of 4): the operations of math.Exp's FMA variant (archExp with
// useFMA; see mathExpFMA) in the same order on each lane, its branches
// turned into blends. dst and x may be the same slice.
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	XORQ AX, AX

exploop:
	CMPQ AX, CX
	JGE  expdone
	VMOVUPD (SI)(AX*8), Y13 // x
	// k = round(x·log2(e)) (int32), r = (x − k·ln2)/16, two-part ln2
	VMULPD     expvec<>+0(SB), Y13, Y1
	VCVTPD2DQY Y1, X2
	VCVTDQ2PD  X2, Y3
	VMOVAPD    Y13, Y0
	VFNMADD231PD expvec<>+32(SB), Y3, Y0
	VFNMADD231PD expvec<>+64(SB), Y3, Y0
	VMULPD     expvec<>+96(SB), Y0, Y0
	// Taylor series: p = r·(1 + r·(1/2 + r·(1/6 + …)))
	VMOVUPD    expvec<>+128(SB), Y1
	VFMADD213PD expvec<>+160(SB), Y0, Y1
	VFMADD213PD expvec<>+192(SB), Y0, Y1
	VFMADD213PD expvec<>+224(SB), Y0, Y1
	VFMADD213PD expvec<>+256(SB), Y0, Y1
	VFMADD213PD expvec<>+288(SB), Y0, Y1
	VFMADD213PD expvec<>+320(SB), Y0, Y1
	VFMADD213PD expvec<>+352(SB), Y0, Y1
	VMULPD     Y1, Y0, Y0
	// square four times: p ← p·(p + 2), the last + 1 fused
	VADDPD     expvec<>+384(SB), Y0, Y1
	VMULPD     Y1, Y0, Y0
	VADDPD     expvec<>+384(SB), Y0, Y1
	VMULPD     Y1, Y0, Y0
	VADDPD     expvec<>+384(SB), Y0, Y1
	VMULPD     Y1, Y0, Y0
	VADDPD     expvec<>+384(SB), Y0, Y1
	VFMADD213PD expvec<>+352(SB), Y1, Y0
	// × 2^k: b = k + 1023; for b ≤ 0 (subnormal results) in two steps,
	// 2^(b+1022−1023) then 2^−1022, as math.Exp does. Where b < −52 the
	// result is 0: those lanes are scaled by 1 instead of garbage (which
	// could be subnormal, and slow) and cleared.
	VPADDD     expvec<>+512(SB), X2, X4
	VMOVDQU    expvec<>+560(SB), X9
	VPCMPGTD   X4, X9, X9 // b < −52
	VPBLENDVB  X9, expvec<>+512(SB), X4, X14
	VPADDD     expvec<>+528(SB), X14, X5
	VMOVDQU    expvec<>+544(SB), X6
	VPCMPGTD   X14, X6, X6 // b < 1
	VPBLENDVB  X6, X5, X14, X7
	VPMOVSXDQ  X7, Y7
	VPSLLQ     $52, Y7, Y7
	VPMOVSXDQ  X6, Y6
	VMOVUPD    expvec<>+352(SB), Y8
	VBLENDVPD  Y6, expvec<>+480(SB), Y8, Y8
	VMULPD     Y7, Y0, Y0
	VMULPD     Y8, Y0, Y0
	VPMOVSXDQ  X9, Y9
	VANDNPD    Y0, Y9, Y0
	// b > 2046 or x > Overflow (also +Inf): +Inf
	VPCMPGTD   expvec<>+576(SB), X4, X10
	VPMOVSXDQ  X10, Y10
	VCMPPD     $0x1e, expvec<>+416(SB), Y13, Y11 // GT_OQ
	VORPD      Y11, Y10, Y10
	VBLENDVPD  Y10, expvec<>+448(SB), Y0, Y0
	// NaN: x itself
	VCMPPD     $3, Y13, Y13, Y12 // UNORD_Q
	VBLENDVPD  Y12, Y13, Y0, Y0
	VMOVUPD    Y0, (DI)(AX*8)
	ADDQ       $4, AX
	JMP        exploop

expdone:
	VZEROUPPER
	RET

// func superspikeAVX512(dst, u []float64, theta, beta, num float64)
// superspikeAVX2 eight at a time, the last 1 to 7 under a mask.
TEXT ·superspikeAVX512(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ u_base+24(FP), SI
	VBROADCASTSD theta+48(FP), Z10
	VBROADCASTSD beta+56(FP), Z11
	VBROADCASTSD num+64(FP), Z12
	VPTERNLOGQ $0xff, Z13, Z13, Z13
	VPSRLQ     $1, Z13, Z13 // sign-bit clear mask
	MOVQ     $0x3FF0000000000000, AX
	MOVQ     AX, X14
	VBROADCASTSD X14, Z14 // 1.0
	XORQ AX, AX

zssloop:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  zssdone
	MOVQ $0xff, R12
	CMPQ DX, $8
	JGE  zssmask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zssmask:
	KMOVW R12, K1
	VMOVUPD.Z (SI)(AX*8), K1, Z0
	VSUBPD  Z10, Z0, Z0
	VANDPD  Z13, Z0, Z0
	VMULPD  Z11, Z0, Z0
	VADDPD  Z14, Z0, Z0
	VMULPD  Z0, Z0, Z0
	VDIVPD  Z0, Z12, Z0
	VMOVUPD Z0, K1, (DI)(AX*8)
	ADDQ    $8, AX
	JMP     zssloop

zssdone:
	VZEROUPPER
	RET

// The int64 constants of expShapeAVX512's exponent arithmetic and its
// sign masks, eight copies each.
DATA zexp<>+0(SB)/8, $0x1
DATA zexp<>+8(SB)/8, $0x1
DATA zexp<>+16(SB)/8, $0x1
DATA zexp<>+24(SB)/8, $0x1
DATA zexp<>+32(SB)/8, $0x1
DATA zexp<>+40(SB)/8, $0x1
DATA zexp<>+48(SB)/8, $0x1
DATA zexp<>+56(SB)/8, $0x1
DATA zexp<>+64(SB)/8, $0x3ff
DATA zexp<>+72(SB)/8, $0x3ff
DATA zexp<>+80(SB)/8, $0x3ff
DATA zexp<>+88(SB)/8, $0x3ff
DATA zexp<>+96(SB)/8, $0x3ff
DATA zexp<>+104(SB)/8, $0x3ff
DATA zexp<>+112(SB)/8, $0x3ff
DATA zexp<>+120(SB)/8, $0x3ff
DATA zexp<>+128(SB)/8, $0x3fe
DATA zexp<>+136(SB)/8, $0x3fe
DATA zexp<>+144(SB)/8, $0x3fe
DATA zexp<>+152(SB)/8, $0x3fe
DATA zexp<>+160(SB)/8, $0x3fe
DATA zexp<>+168(SB)/8, $0x3fe
DATA zexp<>+176(SB)/8, $0x3fe
DATA zexp<>+184(SB)/8, $0x3fe
DATA zexp<>+192(SB)/8, $-52
DATA zexp<>+200(SB)/8, $-52
DATA zexp<>+208(SB)/8, $-52
DATA zexp<>+216(SB)/8, $-52
DATA zexp<>+224(SB)/8, $-52
DATA zexp<>+232(SB)/8, $-52
DATA zexp<>+240(SB)/8, $-52
DATA zexp<>+248(SB)/8, $-52
DATA zexp<>+256(SB)/8, $0x7fe
DATA zexp<>+264(SB)/8, $0x7fe
DATA zexp<>+272(SB)/8, $0x7fe
DATA zexp<>+280(SB)/8, $0x7fe
DATA zexp<>+288(SB)/8, $0x7fe
DATA zexp<>+296(SB)/8, $0x7fe
DATA zexp<>+304(SB)/8, $0x7fe
DATA zexp<>+312(SB)/8, $0x7fe
DATA zexp<>+320(SB)/8, $0x8000000000000000
DATA zexp<>+328(SB)/8, $0x8000000000000000
DATA zexp<>+336(SB)/8, $0x8000000000000000
DATA zexp<>+344(SB)/8, $0x8000000000000000
DATA zexp<>+352(SB)/8, $0x8000000000000000
DATA zexp<>+360(SB)/8, $0x8000000000000000
DATA zexp<>+368(SB)/8, $0x8000000000000000
DATA zexp<>+376(SB)/8, $0x8000000000000000
DATA zexp<>+384(SB)/8, $0x7fffffffffffffff
DATA zexp<>+392(SB)/8, $0x7fffffffffffffff
DATA zexp<>+400(SB)/8, $0x7fffffffffffffff
DATA zexp<>+408(SB)/8, $0x7fffffffffffffff
DATA zexp<>+416(SB)/8, $0x7fffffffffffffff
DATA zexp<>+424(SB)/8, $0x7fffffffffffffff
DATA zexp<>+432(SB)/8, $0x7fffffffffffffff
DATA zexp<>+440(SB)/8, $0x7fffffffffffffff
GLOBL zexp<>(SB), RODATA|NOPTR, $448

// func expShapeAVX512(dst, u []float64, theta, beta float64, shape int)
// The exponential surrogate shapes (see surrogateKernels), eight neurons at
// a time, the last 1 to 7 under a mask, with x = u − ϑ:
//
//	shape 0 (exponential): dst = exp(−β·|x|)
//	shape 1 (sigmoid):     e = exp(−β·|x|), dst = e/((1 + e)·(1 + e))
//	shape 2 (gaussian):    b = β·x, dst = exp(−b·b/2)
//
// The arithmetic around exp is that of the Go loops, operand for operand
// (which matters only for which NaN comes out); exp is expAVX2's mirror of
// math.Exp, its blends done with mask registers.
TEXT ·expShapeAVX512(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ u_base+24(FP), SI
	VBROADCASTSD theta+48(FP), Z9
	VBROADCASTSD beta+56(FP), Z10
	MOVQ shape+64(FP), R9
	CMPQ R9, $2
	JEQ  zxconst
	VPXORQ zexp<>+320(SB), Z10, Z10 // −β
zxconst:
	VBROADCASTSD expvec<>+0(SB), Z16   // log2(e)
	VBROADCASTSD expvec<>+32(SB), Z17  // ln2, upper part
	VBROADCASTSD expvec<>+64(SB), Z18  // ln2, lower part
	VBROADCASTSD expvec<>+96(SB), Z19  // 1/16
	VBROADCASTSD expvec<>+128(SB), Z20 // series coefficients
	VBROADCASTSD expvec<>+160(SB), Z21
	VBROADCASTSD expvec<>+192(SB), Z22
	VBROADCASTSD expvec<>+224(SB), Z23
	VBROADCASTSD expvec<>+256(SB), Z24
	VBROADCASTSD expvec<>+288(SB), Z25
	VBROADCASTSD expvec<>+320(SB), Z26 // 0.5
	VBROADCASTSD expvec<>+352(SB), Z27 // 1
	VBROADCASTSD expvec<>+384(SB), Z28 // 2
	VBROADCASTSD expvec<>+416(SB), Z29 // Overflow
	VBROADCASTSD expvec<>+448(SB), Z30 // +Inf
	VBROADCASTSD expvec<>+480(SB), Z31 // 2^−1022
	XORQ AX, AX

zxloop:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  zxdone
	MOVQ $0xff, R12
	CMPQ DX, $8
	JGE  zxmask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zxmask:
	KMOVW R12, K1
	VMOVUPD.Z (SI)(AX*8), K1, Z12
	VSUBPD    Z9, Z12, Z12 // x = u − ϑ
	CMPQ R9, $2
	JEQ  zxgauss
	VPANDQ zexp<>+384(SB), Z12, Z12
	VMULPD Z10, Z12, Z13 // −β·|x|
	JMP    zxexp

zxgauss:
	VMULPD Z10, Z12, Z12 // b = x·β
	VPXORQ zexp<>+320(SB), Z12, Z14
	VMULPD Z12, Z14, Z13 // (−b)·b
	VMULPD Z26, Z13, Z13 // /2

zxexp:
	// math.Exp of Z13 into Z0: see expAVX2
	VMULPD     Z16, Z13, Z1
	VCVTPD2DQ  Z1, Y2
	VCVTDQ2PD  Y2, Z3
	VPMOVSXDQ  Y2, Z4
	VMOVAPD    Z13, Z0
	VFNMADD231PD Z17, Z3, Z0
	VFNMADD231PD Z18, Z3, Z0
	VMULPD     Z19, Z0, Z0
	VMOVAPD    Z20, Z1
	VFMADD213PD Z21, Z0, Z1
	VFMADD213PD Z22, Z0, Z1
	VFMADD213PD Z23, Z0, Z1
	VFMADD213PD Z24, Z0, Z1
	VFMADD213PD Z25, Z0, Z1
	VFMADD213PD Z26, Z0, Z1
	VFMADD213PD Z27, Z0, Z1
	VMULPD     Z1, Z0, Z0
	VADDPD     Z28, Z0, Z1
	VMULPD     Z1, Z0, Z0
	VADDPD     Z28, Z0, Z1
	VMULPD     Z1, Z0, Z0
	VADDPD     Z28, Z0, Z1
	VMULPD     Z1, Z0, Z0
	VADDPD     Z28, Z0, Z1
	VFMADD213PD Z27, Z1, Z0
	VPADDQ     zexp<>+64(SB), Z4, Z4 // b = k + 1023
	VPCMPQ     $1, zexp<>+192(SB), Z4, K3 // b < −52: 0
	VPBLENDMQ  zexp<>+64(SB), Z4, K3, Z5
	VPCMPQ     $1, zexp<>+0(SB), Z5, K2 // b < 1: subnormal
	VPADDQ     zexp<>+128(SB), Z5, Z6
	VPBLENDMQ  Z6, Z5, K2, Z7
	VPSLLQ     $52, Z7, Z7
	VBLENDMPD  Z31, Z27, K2, Z8
	VMULPD     Z7, Z0, Z0
	VMULPD     Z8, Z0, Z0
	VPXORQ     Z0, Z0, K3, Z0
	VPCMPQ     $6, zexp<>+256(SB), Z4, K4 // b > 2046: +Inf
	VCMPPD     $0x1e, Z29, Z13, K5 // argument > Overflow: +Inf
	KORW       K4, K5, K4
	VMOVAPD    Z30, K4, Z0
	VCMPPD     $3, Z13, Z13, K6 // NaN: itself
	VMOVAPD    Z13, K6, Z0
	CMPQ R9, $1
	JNE  zxstore
	VADDPD Z0, Z27, Z12 // 1 + e
	VMULPD Z12, Z12, Z12
	VDIVPD Z12, Z0, Z0

zxstore:
	VMOVUPD Z0, K1, (DI)(AX*8)
	ADDQ    $8, AX
	JMP     zxloop

zxdone:
	VZEROUPPER
	RET

// func atanAVX512(dst, u []float64, theta, pb float64)
// The atan surrogate, eight at a time, the last 1 to 7 under a mask:
// a = (u − ϑ)·pb/2 with pb = π·β, dst = 1/(1 + a·a), as the Go loop in surrogateKernels.
TEXT ·atanAVX512(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ u_base+24(FP), SI
	VBROADCASTSD theta+48(FP), Z10
	VBROADCASTSD pb+56(FP), Z11
	VBROADCASTSD expvec<>+320(SB), Z12 // 0.5
	VBROADCASTSD expvec<>+352(SB), Z14 // 1
	XORQ AX, AX

zatloop:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  zatdone
	MOVQ $0xff, R12
	CMPQ DX, $8
	JGE  zatmask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zatmask:
	KMOVW R12, K1
	VMOVUPD.Z (SI)(AX*8), K1, Z0
	VSUBPD  Z10, Z0, Z0
	VMULPD  Z11, Z0, Z0
	VMULPD  Z12, Z0, Z0
	VMULPD  Z0, Z0, Z0
	VADDPD  Z14, Z0, Z0
	VDIVPD  Z0, Z14, Z0
	VMOVUPD Z0, K1, (DI)(AX*8)
	ADDQ    $8, AX
	JMP     zatloop

zatdone:
	VZEROUPPER
	RET

// func addOuterAVX512(m []float64, stride int, idx []int32, val []float64, x []float64)
// m[idx[k]·stride+i] += val[k]·x[i] for k = 0, 1, …, len(idx)−1 and every
// i < len(x): x is held in registers 32 columns (then 8, then the last 1
// to 7 under a mask) at a time while the rows of m stream past.
TEXT ·addOuterAVX512(SB), NOSPLIT, $0-104
	MOVQ m_base+0(FP), SI
	MOVQ stride+24(FP), R13
	SHLQ $3, R13 // row stride of m, in bytes
	MOVQ idx_base+32(FP), R8
	MOVQ idx_len+40(FP), BX
	MOVQ val_base+56(FP), R9
	MOVQ x_base+80(FP), DI
	MOVQ x_len+88(FP), CX
	XORQ AX, AX // column

aoblock32:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $32
	JLT  aoblock8
	VMOVUPD (DI)(AX*8), Z0
	VMOVUPD 64(DI)(AX*8), Z1
	VMOVUPD 128(DI)(AX*8), Z2
	VMOVUPD 192(DI)(AX*8), Z3
	LEAQ (SI)(AX*8), R10
	XORQ DX, DX

aorow32:
	CMPQ DX, BX
	JGE  aonext32
	LEAQ 4(DX), R12 // prefetch the block of the row four ahead
	CMPQ R12, BX
	JGE  aopf
	MOVLQSX (R8)(R12*4), R12
	IMULQ R13, R12
	ADDQ R10, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	PREFETCHT0 128(R12)
	PREFETCHT0 192(R12)

aopf:
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSD (R9)(DX*8), Z4
	VMULPD  Z0, Z4, Z5
	VADDPD  (R11), Z5, Z5
	VMOVUPD Z5, (R11)
	VMULPD  Z1, Z4, Z6
	VADDPD  64(R11), Z6, Z6
	VMOVUPD Z6, 64(R11)
	VMULPD  Z2, Z4, Z7
	VADDPD  128(R11), Z7, Z7
	VMOVUPD Z7, 128(R11)
	VMULPD  Z3, Z4, Z8
	VADDPD  192(R11), Z8, Z8
	VMOVUPD Z8, 192(R11)
	INCQ DX
	JMP  aorow32

aonext32:
	ADDQ $32, AX
	JMP  aoblock32

aoblock8:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  aodone
	MOVQ $0xff, R12 // mask of the columns AX … AX+7 that exist
	CMPQ DX, $8
	JGE  aomask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

aomask:
	KMOVW R12, K1
	VMOVUPD.Z (DI)(AX*8), K1, Z0
	LEAQ (SI)(AX*8), R10
	XORQ DX, DX

aorow8:
	CMPQ DX, BX
	JGE  aonext8
	MOVLQSX (R8)(DX*4), R11
	IMULQ R13, R11
	ADDQ R10, R11
	VBROADCASTSD (R9)(DX*8), Z4
	VMULPD    Z0, Z4, Z5
	VADDPD.Z  (R11), Z5, K1, Z5
	VMOVUPD   Z5, K1, (R11)
	INCQ DX
	JMP  aorow8

aonext8:
	ADDQ $8, AX
	JMP  aoblock8

aodone:
	VZEROUPPER
	RET

// func prefetch(p []float64)
// Asks for every cache line of p (PREFETCHT0); a hint only.
TEXT ·prefetch(SB), NOSPLIT, $0-24
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	LEAQ (SI)(CX*8), CX

pfloop:
	CMPQ SI, CX
	JGE  pfdone
	PREFETCHT0 (SI)
	ADDQ $64, SI
	JMP  pfloop

pfdone:
	RET

DATA lifidx<>+0(SB)/4, $0
DATA lifidx<>+4(SB)/4, $1
DATA lifidx<>+8(SB)/4, $2
DATA lifidx<>+12(SB)/4, $3
DATA lifidx<>+16(SB)/4, $4
DATA lifidx<>+20(SB)/4, $5
DATA lifidx<>+24(SB)/4, $6
DATA lifidx<>+28(SB)/4, $7
GLOBL lifidx<>(SB), RODATA|NOPTR, $32

// func lifStepAVX512(u, cur []float64, lm, cm, lsyn, theta float64, idx []int32) int
// lifStepAVX2 eight neurons at a time, and without branches on the
// spikes: the indices of a chunk's spiking neurons are compressed
// (VPCOMPRESSD) and all eight lanes stored, of which the next chunk
// overwrites those past the spikes (there is room: a chunk's stores end
// at most at its own last neuron). The last 1 to 7 neurons run under a
// mask, and store their indices under a mask of their count. Masked
// stores are left out of the loop: on Zen 5 a masked store that writes
// nothing (a chunk without spikes) can cost hundreds of cycles.
TEXT ·lifStepAVX512(SB), NOSPLIT, $0-112
	MOVQ u_base+0(FP), SI
	MOVQ u_len+8(FP), CX
	MOVQ cur_base+24(FP), DI
	MOVQ idx_base+80(FP), R8
	VBROADCASTSD lm+48(FP), Z10
	VBROADCASTSD cm+56(FP), Z11
	VBROADCASTSD lsyn+64(FP), Z12
	VBROADCASTSD theta+72(FP), Z13
	VMOVDQU lifidx<>(SB), Y4 // neuron indices of the chunk
	MOVL $8, AX
	VMOVD AX, X6
	VPBROADCASTD X6, Y6
	XORQ AX, AX
	XORQ DX, DX

zlifloop:
	MOVQ CX, BX
	SUBQ AX, BX
	CMPQ BX, $8
	JLT  zliftail
	VMOVUPD (SI)(AX*8), Z0
	VMOVUPD (DI)(AX*8), Z1
	VMULPD  Z10, Z0, Z2
	VMULPD  Z11, Z1, Z3
	VADDPD  Z3, Z2, Z2
	VCMPPD  $0x1e, Z13, Z0, K1 // u > theta (GT_OQ: false for NaN)
	VPXORQ  Z2, Z2, K1, Z2     // 0 where spiking
	VMOVUPD Z2, (SI)(AX*8)
	VMULPD  Z12, Z1, Z1
	VMOVUPD Z1, (DI)(AX*8)
	VPCOMPRESSD Z4, K1, Z5
	VMOVDQU Y5, (R8)(DX*4)
	KMOVW   K1, BX
	POPCNTL BX, BX
	ADDQ    BX, DX
	VPADDD  Y6, Y4, Y4
	ADDQ    $8, AX
	JMP     zlifloop

zliftail:
	TESTQ BX, BX
	JLE   zlifdone
	MOVQ  $1, R12
	SHLXQ BX, R12, R12
	DECQ  R12
	KMOVW R12, K2
	VMOVUPD.Z (SI)(AX*8), K2, Z0
	VMOVUPD.Z (DI)(AX*8), K2, Z1
	VMULPD  Z10, Z0, Z2
	VMULPD  Z11, Z1, Z3
	VADDPD  Z3, Z2, Z2
	VCMPPD  $0x1e, Z13, Z0, K2, K1
	VPXORQ  Z2, Z2, K1, Z2
	VMOVUPD Z2, K2, (SI)(AX*8)
	VMULPD  Z12, Z1, Z1
	VMOVUPD Z1, K2, (DI)(AX*8)
	VPCOMPRESSD Z4, K1, Z5
	KMOVW   K1, BX
	POPCNTL BX, BX
	TESTQ   BX, BX
	JZ      zlifdone
	MOVL    $1, R12
	SHLXL   BX, R12, R12
	DECL    R12
	KMOVW   R12, K3
	VMOVDQU32 Z5, K3, (R8)(DX*4)
	ADDQ    BX, DX

zlifdone:
	MOVQ DX, ret+104(FP)
	VZEROUPPER
	RET

DATA esserNaN<>+0(SB)/8, $0x7FF8000000000001 // math.NaN()
GLOBL esserNaN<>(SB), RODATA|NOPTR, $8

// func esserAVX512(dst, u []float64, theta, beta float64)
// The esser surrogate, eight at a time, the last 1 to 7 under a mask:
// dst = math.Max(0, 1 − β·|u − ϑ|). VMAXPD(y, 0) is math.Max(0, y) but
// for NaN, where it gives 0 and math.Max its NaN(): blended in.
TEXT ·esserAVX512(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ u_base+24(FP), SI
	VBROADCASTSD theta+48(FP), Z10
	VBROADCASTSD beta+56(FP), Z11
	VBROADCASTSD expvec<>+352(SB), Z14 // 1
	VBROADCASTSD esserNaN<>(SB), Z15
	VPXORQ Z12, Z12, Z12 // 0
	XORQ AX, AX

zesloop:
	MOVQ CX, DX
	SUBQ AX, DX
	JLE  zesdone
	MOVQ $0xff, R12
	CMPQ DX, $8
	JGE  zesmask
	MOVQ $1, R12
	SHLXQ DX, R12, R12
	DECQ R12

zesmask:
	KMOVW R12, K1
	VMOVUPD.Z (SI)(AX*8), K1, Z0
	VSUBPD  Z10, Z0, Z0
	VPANDQ  zexp<>+384(SB), Z0, Z0 // |x|
	VMULPD  Z11, Z0, Z0
	VSUBPD  Z0, Z14, Z0 // y = 1 − β·|x|
	VCMPPD  $3, Z0, Z0, K2 // NaN
	VMAXPD  Z12, Z0, Z0 // y > 0 ? y : 0
	VMOVAPD Z15, K2, Z0
	VMOVUPD Z0, K1, (DI)(AX*8)
	ADDQ    $8, AX
	JMP     zesloop

zesdone:
	VZEROUPPER
	RET
