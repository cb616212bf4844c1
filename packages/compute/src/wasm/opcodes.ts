/**
 * Every byte of WebAssembly's binary format that the hand-assembled modules use, named as in the
 * WebAssembly specification (https://webassembly.github.io/spec/core/binary/): `I32_ADD` is
 * `i32.add`. Single-byte instructions are numbers; prefixed instructions (SIMD behind 0xfd,
 * bulk memory behind 0xfc) are their whole encoding, the prefix followed by the sub-opcode as
 * unsigned LEB128, so `[...F32X4_MUL]` and `I32_ADD` both drop into a code array as they are.
 */

/** `\0asm`, then version 1. */
export const MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;
export const VERSION = [0x01, 0x00, 0x00, 0x00] as const;

// Section ids.
export const SECTION_TYPE = 1;
export const SECTION_IMPORT = 2;
export const SECTION_FUNCTION = 3;
export const SECTION_EXPORT = 7;
export const SECTION_CODE = 10;

// Types.
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
/** The type of a function signature in the type section. */
export const FUNC_TYPE = 0x60;
/** Block type of a block / loop / if that leaves nothing on the stack. */
export const BLOCK_EMPTY = 0x40;

// Import and export descriptors.
export const EXTERNAL_FUNC = 0x00;
export const EXTERNAL_MEMORY = 0x02;
/** Limits with a minimum only (no maximum). */
export const LIMITS_MIN_ONLY = 0x00;
/** Limits with a maximum, of a shared memory (the threads proposal). */
export const LIMITS_SHARED = 0x03;

// Control instructions.
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const IF = 0x04;
export const ELSE = 0x05;
export const END = 0x0b;
export const BR = 0x0c;
export const BR_IF = 0x0d;

// Variable instructions.
export const LOCAL_GET = 0x20;
export const LOCAL_SET = 0x21;
export const LOCAL_TEE = 0x22;

// Memory instructions (followed by a memarg).
export const I32_LOAD = 0x28;
export const F32_STORE = 0x38;

// Numeric instructions.
export const I32_CONST = 0x41;
export const F32_CONST = 0x43;
export const I32_GE_U = 0x4f;
export const I32_ADD = 0x6a;
export const I32_SUB = 0x6b;
export const I32_MUL = 0x6c;
export const I32_AND = 0x71;
export const F32_ADD = 0x92;

/** Prefixed instruction: `prefix`, then `sub` as unsigned LEB128 (every sub-opcode used is < 2^14). */
const prefixed = (prefix: number, sub: number): readonly number[] => (sub < 0x80 ? [prefix, sub] : [prefix, (sub & 0x7f) | 0x80, sub >> 7]);
export const SIMD_PREFIX = 0xfd;
export const MISC_PREFIX = 0xfc;

// Bulk memory (0xfc prefix). memory.copy is followed by two memory indices.
export const MEMORY_COPY = prefixed(MISC_PREFIX, 10);

// SIMD (0xfd prefix). Memory instructions are followed by a memarg; v128.const by 16 bytes.
export const V128_LOAD = prefixed(SIMD_PREFIX, 0x00);
export const V128_LOAD32_SPLAT = prefixed(SIMD_PREFIX, 0x09);
export const V128_STORE = prefixed(SIMD_PREFIX, 0x0b);
export const V128_CONST = prefixed(SIMD_PREFIX, 0x0c);
/** Followed by 16 lane indices (bytes 0-15 from the first operand, 16-31 from the second). */
export const I8X16_SHUFFLE = prefixed(SIMD_PREFIX, 0x0d);
export const F32X4_SPLAT = prefixed(SIMD_PREFIX, 0x13);
/** Followed by the lane index (one byte). */
export const F32X4_EXTRACT_LANE = prefixed(SIMD_PREFIX, 0x1f);
export const F32X4_SQRT = prefixed(SIMD_PREFIX, 0xe3);
export const F32X4_ADD = prefixed(SIMD_PREFIX, 0xe4);
export const F32X4_SUB = prefixed(SIMD_PREFIX, 0xe5);
export const F32X4_MUL = prefixed(SIMD_PREFIX, 0xe6);
export const F32X4_DIV = prefixed(SIMD_PREFIX, 0xe7);
