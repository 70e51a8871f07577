// The CIL opcode table (ECMA-335 Partition III) as data: code, name, operand kind. One-byte codes
// 0x00-0xFF and 0xFE-prefixed codes 0xFE00-0xFE22; codes not listed are "unused" (no operand), as
// in the runtime's opcode.def, whose names SOS prints. Differences from opcode.def: 0xFE19 is the
// ECMA `no.` prefix (opcode.def calls it "unused") and 0xFE08 is unused (opcode.def: ldctarg).

/** How an instruction's operand is encoded (Partition III 1.2 / opcode.def operand kinds). */
export type OperandKind =
  | "InlineNone"
  | "ShortInlineVar" // u8 argument/local number
  | "InlineVar" // u16 argument/local number
  | "ShortInlineI" // i8
  | "InlineI" // i32
  | "InlineI8" // i64
  | "ShortInlineR" // float32
  | "InlineR" // float64
  | "ShortInlineBrTarget" // i8 offset from the next instruction
  | "InlineBrTarget" // i32 offset from the next instruction
  | "InlineMethod"
  | "InlineField"
  | "InlineType"
  | "InlineTok"
  | "InlineSig"
  | "InlineString"
  | "InlineSwitch"; // u32 count, then count i32 offsets from the end of the table

export interface OpcodeInfo {
  code: number;
  name: string;
  operand: OperandKind;
  /** Bytes of the opcode itself (1, or 2 for 0xFE xx). */
  size: number;
}

/** Operand size in bytes by kind (InlineSwitch: the count only; the table follows). */
export const OPERAND_SIZE: Record<OperandKind, number> = {
  InlineNone: 0,
  ShortInlineVar: 1,
  InlineVar: 2,
  ShortInlineI: 1,
  InlineI: 4,
  InlineI8: 8,
  ShortInlineR: 4,
  InlineR: 8,
  ShortInlineBrTarget: 1,
  InlineBrTarget: 4,
  InlineMethod: 4,
  InlineField: 4,
  InlineType: 4,
  InlineTok: 4,
  InlineSig: 4,
  InlineString: 4,
  InlineSwitch: 4,
};

const KIND_ABBREV: Record<string, OperandKind> = {
  "": "InlineNone",
  var8: "ShortInlineVar",
  var16: "InlineVar",
  i8: "ShortInlineI",
  i32: "InlineI",
  i64: "InlineI8",
  r32: "ShortInlineR",
  r64: "InlineR",
  br8: "ShortInlineBrTarget",
  br32: "InlineBrTarget",
  method: "InlineMethod",
  field: "InlineField",
  type: "InlineType",
  tok: "InlineTok",
  sig: "InlineSig",
  string: "InlineString",
  switch: "InlineSwitch",
};

// code name [operand]
const TABLE = `
00 nop
01 break
02 ldarg.0
03 ldarg.1
04 ldarg.2
05 ldarg.3
06 ldloc.0
07 ldloc.1
08 ldloc.2
09 ldloc.3
0A stloc.0
0B stloc.1
0C stloc.2
0D stloc.3
0E ldarg.s var8
0F ldarga.s var8
10 starg.s var8
11 ldloc.s var8
12 ldloca.s var8
13 stloc.s var8
14 ldnull
15 ldc.i4.m1
16 ldc.i4.0
17 ldc.i4.1
18 ldc.i4.2
19 ldc.i4.3
1A ldc.i4.4
1B ldc.i4.5
1C ldc.i4.6
1D ldc.i4.7
1E ldc.i4.8
1F ldc.i4.s i8
20 ldc.i4 i32
21 ldc.i8 i64
22 ldc.r4 r32
23 ldc.r8 r64
25 dup
26 pop
27 jmp method
28 call method
29 calli sig
2A ret
2B br.s br8
2C brfalse.s br8
2D brtrue.s br8
2E beq.s br8
2F bge.s br8
30 bgt.s br8
31 ble.s br8
32 blt.s br8
33 bne.un.s br8
34 bge.un.s br8
35 bgt.un.s br8
36 ble.un.s br8
37 blt.un.s br8
38 br br32
39 brfalse br32
3A brtrue br32
3B beq br32
3C bge br32
3D bgt br32
3E ble br32
3F blt br32
40 bne.un br32
41 bge.un br32
42 bgt.un br32
43 ble.un br32
44 blt.un br32
45 switch switch
46 ldind.i1
47 ldind.u1
48 ldind.i2
49 ldind.u2
4A ldind.i4
4B ldind.u4
4C ldind.i8
4D ldind.i
4E ldind.r4
4F ldind.r8
50 ldind.ref
51 stind.ref
52 stind.i1
53 stind.i2
54 stind.i4
55 stind.i8
56 stind.r4
57 stind.r8
58 add
59 sub
5A mul
5B div
5C div.un
5D rem
5E rem.un
5F and
60 or
61 xor
62 shl
63 shr
64 shr.un
65 neg
66 not
67 conv.i1
68 conv.i2
69 conv.i4
6A conv.i8
6B conv.r4
6C conv.r8
6D conv.u4
6E conv.u8
6F callvirt method
70 cpobj type
71 ldobj type
72 ldstr string
73 newobj method
74 castclass type
75 isinst type
76 conv.r.un
79 unbox type
7A throw
7B ldfld field
7C ldflda field
7D stfld field
7E ldsfld field
7F ldsflda field
80 stsfld field
81 stobj type
82 conv.ovf.i1.un
83 conv.ovf.i2.un
84 conv.ovf.i4.un
85 conv.ovf.i8.un
86 conv.ovf.u1.un
87 conv.ovf.u2.un
88 conv.ovf.u4.un
89 conv.ovf.u8.un
8A conv.ovf.i.un
8B conv.ovf.u.un
8C box type
8D newarr type
8E ldlen
8F ldelema type
90 ldelem.i1
91 ldelem.u1
92 ldelem.i2
93 ldelem.u2
94 ldelem.i4
95 ldelem.u4
96 ldelem.i8
97 ldelem.i
98 ldelem.r4
99 ldelem.r8
9A ldelem.ref
9B stelem.i
9C stelem.i1
9D stelem.i2
9E stelem.i4
9F stelem.i8
A0 stelem.r4
A1 stelem.r8
A2 stelem.ref
A3 ldelem type
A4 stelem type
A5 unbox.any type
B3 conv.ovf.i1
B4 conv.ovf.u1
B5 conv.ovf.i2
B6 conv.ovf.u2
B7 conv.ovf.i4
B8 conv.ovf.u4
B9 conv.ovf.i8
BA conv.ovf.u8
C2 refanyval type
C3 ckfinite
C6 mkrefany type
D0 ldtoken tok
D1 conv.u2
D2 conv.u1
D3 conv.i
D4 conv.ovf.i
D5 conv.ovf.u
D6 add.ovf
D7 add.ovf.un
D8 mul.ovf
D9 mul.ovf.un
DA sub.ovf
DB sub.ovf.un
DC endfinally
DD leave br32
DE leave.s br8
DF stind.i
E0 conv.u
F8 prefix7
F9 prefix6
FA prefix5
FB prefix4
FC prefix3
FD prefix2
FE prefix1
FF prefixref
FE00 arglist
FE01 ceq
FE02 cgt
FE03 cgt.un
FE04 clt
FE05 clt.un
FE06 ldftn method
FE07 ldvirtftn method
FE09 ldarg var16
FE0A ldarga var16
FE0B starg var16
FE0C ldloc var16
FE0D ldloca var16
FE0E stloc var16
FE0F localloc
FE11 endfilter
FE12 unaligned. i8
FE13 volatile.
FE14 tail.
FE15 initobj type
FE16 constrained. type
FE17 cpblk
FE18 initblk
FE19 no. i8
FE1A rethrow
FE1C sizeof type
FE1D refanytype
FE1E readonly.
`;

/** One-byte opcodes by byte value, and 0xFE-prefixed ones by second byte. */
export const ONE_BYTE: OpcodeInfo[] = [];
export const TWO_BYTE: OpcodeInfo[] = [];

for (let i = 0; i < 256; i++) {
  ONE_BYTE.push({ code: i, name: "unused", operand: "InlineNone", size: 1 });
  TWO_BYTE.push({ code: 0xfe00 | i, name: "unused", operand: "InlineNone", size: 2 });
}
for (const line of TABLE.trim().split("\n")) {
  const [hex, name, kind = ""] = line.trim().split(/\s+/) as [string, string, string?];
  const code = parseInt(hex, 16);
  const operand = KIND_ABBREV[kind];
  if (!operand) throw new Error(`opcode table: unknown operand kind ${kind}`);
  if (hex.length === 4) TWO_BYTE[code & 0xff] = { code, name, operand, size: 2 };
  else ONE_BYTE[code] = { code, name, operand, size: 1 };
}
