// attnflow-compile errors: one `attnflow-compile: error:` line each, exit
// code 1, and no output file.
//
// RUN: rm -f %t.o
// RUN: not attnflow-compile %s --emit=obj -o %t.o --bogus 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: attnflow-compile: error: Unknown command line argument '--bogus'.
// RUN: not attnflow-compile %s -o %t.o 2>&1 | FileCheck %s --check-prefix=NOEMIT
// NOEMIT: attnflow-compile: error: for the --emit option: must be specified at least once!
// RUN: not attnflow-compile %s --emit=ptx -o %t.o 2>&1 | FileCheck %s --check-prefix=EMIT
// EMIT: attnflow-compile: error: --emit=ptx and --emit=cubin need --target=cuda
// RUN: not attnflow-compile %s --target=rocm --emit=obj -o %t.o 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: attnflow-compile: error: for the --target option: Cannot find option named 'rocm'!
// RUN: not attnflow-compile %s --target=cuda --gpu-arch=sm_75 --emit=ptx -o %t.o 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: attnflow-compile: error: --gpu-arch must be sm_80 or sm_90, got 'sm_75'
// RUN: not attnflow-compile %s --gpu-arch=sm_90 --emit=obj -o %t.o 2>&1 | FileCheck %s --check-prefix=ARCHCPU
// ARCHCPU: attnflow-compile: error: --gpu-arch needs --target=cuda
// RUN: not attnflow-compile %s --emit=obj --mcpu=no-such-cpu -o %t.o 2>&1 | FileCheck %s --check-prefix=MCPU
// MCPU: attnflow-compile: error: unknown --mcpu=no-such-cpu for {{.*}} (llc -mcpu=help lists the CPUs)
// MCPU-NOT: not a recognized processor
// RUN: not attnflow-compile %s --emit=obj --mcpu=i386 -o %t.o 2>&1 | FileCheck %s --check-prefix=MCPU32
// MCPU32: attnflow-compile: error: --mcpu=i386 cannot run 64-bit code
// RUN: not attnflow-compile %t.nothere.mlir --emit=obj -o %t.o 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: attnflow-compile: error: cannot open input file '{{.*}}nothere.mlir': No such file or directory
// RUN: not attnflow-compile %s --emit=obj -o %t.missing/x.o 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: attnflow-compile: error: cannot write {{.*}}missing/x.o: directory {{.*}}missing does not exist
// RUN: not attnflow-compile %s --emit=obj -o %S 2>&1 | FileCheck %s --check-prefix=ISDIR
// ISDIR: attnflow-compile: error: output {{.*}} is a directory
//
// A module the pipeline cannot lower: located diagnostic, summary, no file.
// RUN: not attnflow-compile %s --emit=obj -o %t.o 2>&1 | FileCheck %s --check-prefix=PIPELINE
// PIPELINE: attnflow-compile: error: {{.*}}errors.mlir:[[@LINE+7]]:{{[0-9]+}}: op was not bufferized
// PIPELINE: attnflow-compile: error: lowering {{.*}}errors.mlir with attnflow-cpu-pipeline failed
// RUN: %python %S/../attnflow-run/Inputs/npytool.py absent %t.o
//
// RUN: attnflow-compile --help | FileCheck %s --check-prefix=HELP --implicit-check-not=--mlir- --implicit-check-not=--x86-
// HELP: USAGE: attnflow-compile [options] <input .mlir file>
func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tosa.abs %a : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
