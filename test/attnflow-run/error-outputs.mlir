// Bad --output flags fail before anything runs; a failed run never leaves an
// output file behind and never touches an existing one.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python %S/Inputs/npytool.py save %t.dir/x.npy "np.arange(4, dtype=np.float32)"
//
// RUN: not attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/a.npy 2>&1 | FileCheck %s --check-prefix=FEW
// FEW: attnflow-run: error: 'main' returns 2 results but 1 --output file was given
// RUN: not attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/a.npy --output=%t.dir/b.npy --output=%t.dir/c.npy 2>&1 | FileCheck %s --check-prefix=MANY
// MANY: attnflow-run: error: 'main' returns 2 results but 3 --output files were given
// RUN: not attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/a.npy --output=%t.dir/a.npy 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: attnflow-run: error: --output {{.*}}a.npy is given twice
// RUN: not attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/a.npy --output=%t.dir/./a.npy 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/a.npy --output=%t.dir/missing/b.npy 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: attnflow-run: error: cannot write {{.*}}missing/b.npy: directory {{.*}}missing does not exist
// RUN: not attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/a.npy --output=%t.dir 2>&1 | FileCheck %s --check-prefix=ISDIR
// ISDIR: attnflow-run: error: output {{.*}}.dir is a directory
// RUN: %python %S/Inputs/npytool.py absent %t.dir/a.npy %t.dir/b.npy %t.dir/c.npy
//
// An existing output survives a failed run unchanged (here: a bad input).
// RUN: %python %S/Inputs/npytool.py save %t.dir/keep.npy "np.array([42], dtype=np.int64)"
// RUN: not attnflow-run %s --input=%t.dir/keep.npy --output=%t.dir/keep.npy --output=%t.dir/b.npy 2>&1 | FileCheck %s --check-prefix=KEEP
// KEEP: attnflow-run: error: argument 0: {{.*}}keep.npy: expected float32 of shape (4,)
// RUN: %python %S/Inputs/npytool.py print %t.dir/keep.npy | FileCheck %s --check-prefix=KEPT
// KEPT: int64 (1,)
// KEPT-NEXT: [42]
//
// ... and when a later output cannot be written after the run (no file can
// be created in /proc), the earlier one is not replaced or removed either.
// RUN: not attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/keep.npy --output=/proc/attnflow-no.npy 2>&1 | FileCheck %s --check-prefix=LATE
// LATE: attnflow-run: error: result 1: {{.*}}/proc
// RUN: %python %S/Inputs/npytool.py print %t.dir/keep.npy | FileCheck %s --check-prefix=KEPT
// RUN: %python %S/Inputs/npytool.py absent %t.dir/keep.npy.attnflow-partial
//
// Outputs may overwrite inputs: they are written after the run.
// RUN: attnflow-run %s --input=%t.dir/x.npy --output=%t.dir/x.npy --output=%t.dir/y.npy
// RUN: %python %S/Inputs/npytool.py print %t.dir/x.npy | FileCheck %s --check-prefix=OVERWRITE
// OVERWRITE: float32 (4,)
// OVERWRITE-NEXT: [0.0, 2.0, 4.0, 6.0]
//
// Only the outputs remain in the directory (no temporary files).
// RUN: ls %t.dir | FileCheck %s --check-prefix=LS
// LS: keep.npy
// LS-NEXT: x.npy
// LS-NEXT: y.npy
// LS-NOT: {{.}}

func.func @main(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %y = linalg.add ins(%x, %x : tensor<4xf32>, tensor<4xf32>)
                  outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %y, %x : tensor<4xf32>, tensor<4xf32>
}
// RUN: not attnflow-run %s --random-inputs --output= --output=%t.dir/b.npy 2>&1 | FileCheck %s --check-prefix=EMPTYOUT
// EMPTYOUT: attnflow-run: error: the output path is empty
