//go:build amd64 && !purego

#include "textflag.h"

// func widenAVX512(dst []float64, src []float32)
// dst[i] = float64(src[i]) for i < len(dst), eight at a time, the last 1
// to 7 under a mask. Exact, as the Go conversion.
TEXT ·widenAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX

widenloop:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $8
	JLT  widentail
	VCVTPS2PD (SI)(AX*4), Z0
	VMOVUPD   Z0, (DI)(AX*8)
	ADDQ      $8, AX
	JMP       widenloop

widentail:
	TESTQ DX, DX
	JZ    widendone
	MOVQ  $1, R12
	SHLXQ DX, R12, R12
	DECQ  R12
	KMOVW R12, K1
	VMOVUPS.Z (SI)(AX*4), K1, Y1
	VCVTPS2PD Y1, Z0
	VMOVUPD   Z0, K1, (DI)(AX*8)

widendone:
	VZEROUPPER
	RET

// func narrowAVX512(dst []float32, src []float64)
// dst[i] = float32(src[i]) for i < len(dst), rounded to nearest even as
// the Go conversion (the default MXCSR rounding), eight at a time, the
// last 1 to 7 under a mask.
TEXT ·narrowAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX

narrowloop:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $8
	JLT  narrowtail
	VMOVUPD   (SI)(AX*8), Z1
	VCVTPD2PS Z1, Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       narrowloop

narrowtail:
	TESTQ DX, DX
	JZ    narrowdone
	MOVQ  $1, R12
	SHLXQ DX, R12, R12
	DECQ  R12
	KMOVW R12, K1
	VMOVUPD.Z (SI)(AX*8), K1, Z1
	VCVTPD2PS Z1, Y0
	VMOVUPS   Y0, K1, (DI)(AX*4)

narrowdone:
	VZEROUPPER
	RET
