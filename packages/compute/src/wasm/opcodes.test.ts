import { F32X4_MUL, F32X4_SPLAT, MEMORY_COPY, V128_LOAD, V128_STORE } from './opcodes';

describe('wasm opcodes', () => {
  it('encodes prefixed instructions as the prefix and the sub-opcode in unsigned LEB128', () => {
    // Sub-opcodes below 0x80 take one byte, the rest two (spec: f32x4.mul is 0xfd 230:u32).
    expect(V128_LOAD).toEqual([0xfd, 0x00]);
    expect(V128_STORE).toEqual([0xfd, 0x0b]);
    expect(F32X4_SPLAT).toEqual([0xfd, 0x13]);
    expect(F32X4_MUL).toEqual([0xfd, 0xe6, 0x01]);
    expect(MEMORY_COPY).toEqual([0xfc, 0x0a]);
  });
});
