//go:build amd64 && !purego

#include "textflag.h"

// AVX2 versions of the kernels in kernel.go. Each processes len/4 groups
// of four float64 (the caller passes a multiple of 4) and does exactly the
// IEEE operations of its Go version, in the same order, without FMA.

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
// gemvT4AVX2 with AVX-512, sixteen columns at a time (each row of mt then
// read once for twice as many columns as registers per load of x), then
// eight.
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
