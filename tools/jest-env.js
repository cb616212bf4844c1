// Runs before every test file (jest.preset.js setupFiles). Tests check the default products,
// the wasm gemm, by count, by bit-identity across thread counts and by the recorded backend;
// a developer's `export LTH_NATIVE_BLAS=1` (OpenBLAS products, other rounding) would fail them
// for no fault of the code. native.test.ts turns native products on itself (useNativeBlas).
// Deleted from process.env, so the lth processes the CLI tests spawn do not see it either.
delete process.env.LTH_NATIVE_BLAS;
