// Bad --input files: each error is one line naming the argument, the file,
// what was expected and what was found; no output file is written.
//
// RUN: %python %S/Inputs/npytool.py save %t.a.npy "np.ones((2, 3), dtype=np.float32)"
// RUN: %python %S/Inputs/npytool.py save %t.b.npy "np.ones(3, dtype=np.float32)"
// RUN: %python %S/Inputs/npytool.py save %t.f64.npy "np.ones((2, 3), dtype=np.float64)"
// RUN: %python %S/Inputs/npytool.py save %t.t.npy "np.ones((3, 2), dtype=np.float32)"
// RUN: %python %S/Inputs/npytool.py save %t.h.npy "np.ones(3, dtype=np.float16)"
// RUN: %python %S/Inputs/npytool.py save %t.u8.npy "np.ones(3, dtype=np.uint8)"
// RUN: %python %S/Inputs/npytool.py save %t.be.npy "np.ones(3, dtype='>f4')"
// RUN: %python %S/Inputs/npytool.py save %t.fortran.npy "np.asfortranarray(np.ones((2, 3), dtype=np.float32))"
// RUN: %python %S/Inputs/npytool.py write %t.garbage.npy 00112233445566778899
// RUN: %python %S/Inputs/npytool.py write %t.truncated.npy 934e554d505901007600
// RUN: rm -f %t.o.npy
//
// RUN: not attnflow-run %s --input=%t.a.npy --output=%t.o.npy 2>&1 | FileCheck %s --check-prefix=FEW
// FEW: attnflow-run: error: 'main' takes 2 arguments but 1 --input file was given
// RUN: not attnflow-run %s --input=%t.a.npy --input=%t.b.npy --input=%t.b.npy 2>&1 | FileCheck %s --check-prefix=MANY
// MANY: attnflow-run: error: 'main' takes 2 arguments but 3 --input files were given
// RUN: not attnflow-run %s 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: attnflow-run: error: 'main' takes 2 arguments: pass one --input=FILE.npy per argument, or --random-inputs
//
// RUN: not attnflow-run %s --input=%t.missing.npy --input=%t.b.npy --output=%t.o.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: attnflow-run: error: argument 0: {{.*}}.missing.npy: cannot open: No such file or directory
// RUN: not attnflow-run %s --input=%t.f64.npy --input=%t.b.npy --output=%t.o.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: attnflow-run: error: argument 0: {{.*}}.f64.npy: expected float32 of shape (2, 3) for tensor<2x3xf32>, got float64 of shape (2, 3)
// RUN: not attnflow-run %s --input=%t.t.npy --input=%t.b.npy --output=%t.o.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: attnflow-run: error: argument 0: {{.*}}.t.npy: expected float32 of shape (2, 3) for tensor<2x3xf32>, got float32 of shape (3, 2)
// RUN: not attnflow-run %s --input=%t.a.npy --input=%t.h.npy --output=%t.o.npy 2>&1 | FileCheck %s --check-prefix=BF16
// BF16: attnflow-run: error: argument 1: {{.*}}.h.npy: expected float32 of shape (3,) for tensor<3xbf16> (rounded to bf16), got float16 of shape (3,)
// RUN: not attnflow-run %s --input=%t.a.npy --input=%t.u8.npy 2>&1 | FileCheck %s --check-prefix=U8
// U8: attnflow-run: error: argument 1: {{.*}}.u8.npy: unsupported dtype '|u1' (supported: <f8 <f4 <f2 <i8 <i4 |b1)
// RUN: not attnflow-run %s --input=%t.a.npy --input=%t.be.npy 2>&1 | FileCheck %s --check-prefix=BE
// BE: attnflow-run: error: argument 1: {{.*}}.be.npy: big-endian data is not supported '>f4'
// RUN: not attnflow-run %s --input=%t.fortran.npy --input=%t.b.npy 2>&1 | FileCheck %s --check-prefix=FORTRAN
// FORTRAN: attnflow-run: error: argument 0: {{.*}}.fortran.npy: fortran_order=True (column-major) arrays are not supported
// RUN: not attnflow-run %s --input=%t.garbage.npy --input=%t.b.npy 2>&1 | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: attnflow-run: error: argument 0: {{.*}}.garbage.npy: not a .npy file
// RUN: not attnflow-run %s --input=%t.truncated.npy --input=%t.b.npy 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// TRUNCATED: attnflow-run: error: argument 0: {{.*}}.truncated.npy: truncated .npy file
//
// RUN: %python %S/Inputs/npytool.py absent %t.o.npy

func.func @main(%a: tensor<2x3xf32>, %b: tensor<3xbf16>) -> tensor<2x3xf32> {
  return %a : tensor<2x3xf32>
}
