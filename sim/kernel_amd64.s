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
TEXT ·superspikeAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ u_base+24(FP), SI
	VBROADCASTSD theta+48(FP), Y10
	VBROADCASTSD beta+56(FP), Y11
	VBROADCASTSD num+64(FP), Y12
	VPCMPEQQ Y13, Y13, Y13
	VPSRLQ   $1, Y13, Y13 // sign-bit clear mask
	MOVQ     $0x3FF0000000000000, AX
	MOVQ     AX, X14
	VBROADCASTSD X14, Y14 // 1.0
	XORQ AX, AX

ssloop:
	CMPQ AX, CX
	JGE  ssdone
	VMOVUPD (SI)(AX*8), Y0
	VSUBPD  Y10, Y0, Y0
	VANDPD  Y13, Y0, Y0
	VMULPD  Y11, Y0, Y0
	VADDPD  Y14, Y0, Y0
	VMULPD  Y0, Y0, Y0
	VDIVPD  Y0, Y12, Y0
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ    $4, AX
	JMP     ssloop

ssdone:
	VZEROUPPER
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

// func dotAVX2(a, b []float64) float64
// Eight partial sums: element i goes to sum i mod 8; len(a) is a multiple
// of 8. The sums combine as dotGo8 does.
TEXT ·dotAVX2(SB), NOSPLIT, $0-56
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	XORQ AX, AX

dotloop:
	CMPQ AX, CX
	JGE  dotdone
	VMOVUPD (SI)(AX*8), Y4
	VMULPD  (DI)(AX*8), Y4, Y4
	VADDPD  Y4, Y0, Y0
	VMOVUPD 32(SI)(AX*8), Y5
	VMULPD  32(DI)(AX*8), Y5, Y5
	VADDPD  Y5, Y1, Y1
	ADDQ    $8, AX
	JMP     dotloop

dotdone:
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD    X1, X0, X0
	VUNPCKHPD X0, X0, X1
	VADDSD    X1, X0, X0
	MOVSD     X0, ret+48(FP)
	VZEROUPPER
	RET

// func dot4AVX2(a, x0, x1, x2, x3 []float64, out *[4]float64)
// dotAVX2 of a with each x, reading a once; len(a) is a multiple of 8.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-128
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ x0_base+24(FP), R8
	MOVQ x1_base+48(FP), R9
	MOVQ x2_base+72(FP), R10
	MOVQ x3_base+96(FP), R11
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ AX, AX

dot4loop:
	CMPQ AX, CX
	JGE  dot4done
	VMOVUPD (SI)(AX*8), Y8
	VMOVUPD 32(SI)(AX*8), Y9
	VMULPD  (R8)(AX*8), Y8, Y10
	VADDPD  Y10, Y0, Y0
	VMULPD  32(R8)(AX*8), Y9, Y10
	VADDPD  Y10, Y1, Y1
	VMULPD  (R9)(AX*8), Y8, Y10
	VADDPD  Y10, Y2, Y2
	VMULPD  32(R9)(AX*8), Y9, Y10
	VADDPD  Y10, Y3, Y3
	VMULPD  (R10)(AX*8), Y8, Y10
	VADDPD  Y10, Y4, Y4
	VMULPD  32(R10)(AX*8), Y9, Y10
	VADDPD  Y10, Y5, Y5
	VMULPD  (R11)(AX*8), Y8, Y10
	VADDPD  Y10, Y6, Y6
	VMULPD  32(R11)(AX*8), Y9, Y10
	VADDPD  Y10, Y7, Y7
	ADDQ    $8, AX
	JMP     dot4loop

dot4done:
	MOVQ out+120(FP), DI
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD    X1, X0, X0
	VUNPCKHPD X0, X0, X1
	VADDSD    X1, X0, X0
	MOVSD     X0, (DI)
	VADDPD Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VADDPD    X3, X2, X2
	VUNPCKHPD X2, X2, X3
	VADDSD    X3, X2, X2
	MOVSD     X2, 8(DI)
	VADDPD Y5, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPD    X5, X4, X4
	VUNPCKHPD X4, X4, X5
	VADDSD    X5, X4, X4
	MOVSD     X4, 16(DI)
	VADDPD Y7, Y6, Y6
	VEXTRACTF128 $1, Y6, X7
	VADDPD    X7, X6, X6
	VUNPCKHPD X6, X6, X7
	VADDSD    X7, X6, X6
	MOVSD     X6, 24(DI)
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
