// Bad command lines: one `attnflow-run: error:` line (cl's notes follow).
//
// RUN: not attnflow-run %s --bogus 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: attnflow-run: error: Unknown command line argument '--bogus'.
// RUN: not attnflow-run %s --inptu=x.npy 2>&1 | FileCheck %s --check-prefix=TYPO
// TYPO: attnflow-run: error: Unknown command line argument '--inptu=x.npy'.
// TYPO-NEXT: attnflow-run: note: Did you mean '--input=x.npy'?
// RUN: not attnflow-run 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: attnflow-run: error: Not enough positional command line arguments specified!
// RUN: not attnflow-run %s %s 2>&1 | FileCheck %s --check-prefix=TWOFILES
// TWOFILES: attnflow-run: error: Too many positional arguments specified!
// RUN: not attnflow-run %t.nothere.mlir 2>&1 | FileCheck %s --check-prefix=NOTHERE
// NOTHERE: attnflow-run: error: cannot open input file '{{.*}}.nothere.mlir': No such file or directory
//
// RUN: not attnflow-run %s --random-inputs --repeat=abc 2>&1 | FileCheck %s --check-prefix=NOTINT
// NOTINT: attnflow-run: error: for the --repeat option: 'abc' value invalid for integer argument!
// RUN: not attnflow-run %s --random-inputs --repeat=0 2>&1 | FileCheck %s --check-prefix=REPEAT0
// REPEAT0: attnflow-run: error: --repeat must be >= 1 (got 0)
// RUN: not attnflow-run %s --random-inputs --repeat=-2 2>&1 | FileCheck %s --check-prefix=REPEATNEG
// REPEATNEG: attnflow-run: error: --repeat must be >= 1 (got -2)
// RUN: not attnflow-run %s --random-inputs --repeat=2 --warmup=-1 2>&1 | FileCheck %s --check-prefix=WARMUPNEG
// WARMUPNEG: attnflow-run: error: --warmup must be >= 0 (got -1)
// RUN: not attnflow-run %s --random-inputs --warmup=3 2>&1 | FileCheck %s --check-prefix=WARMUP
// WARMUP: attnflow-run: error: --warmup needs --repeat
// RUN: not attnflow-run %s --seed=3 2>&1 | FileCheck %s --check-prefix=SEED
// SEED: attnflow-run: error: --seed needs --random-inputs
// RUN: not attnflow-run %s --random-inputs --seed=-3 2>&1 | FileCheck %s --check-prefix=SEEDNEG
// SEEDNEG: attnflow-run: error: for the --seed option: '-3' value invalid for ulong argument!
// RUN: not attnflow-run %s --random-inputs --input=%t.x.npy 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: attnflow-run: error: --random-inputs and --input are mutually exclusive
// RUN: not attnflow-run %s --random-inputs --threads=0 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: attnflow-run: error: --threads must be >= 1 (got 0)
//
// Valid: --threads is accepted (and exported as OMP_NUM_THREADS).
// RUN: attnflow-run %s --random-inputs --threads=2
//
// --help lists the tool's own options, not LLVM's.
// RUN: attnflow-run --help | FileCheck %s --check-prefix=HELP --implicit-check-not=--mlir- --implicit-check-not=--x86- --implicit-check-not=--debug-pass
// HELP: USAGE: attnflow-run [options] <input .mlir file>
// HELP: attnflow-run options:
// HELP-DAG: --entry=<name>
// HELP-DAG: --input=<file.npy>
// HELP-DAG: --output=<file.npy>
// HELP-DAG: --random-inputs
// HELP-DAG: --seed=<N>
// HELP-DAG: --repeat=<N>
// HELP-DAG: --warmup=<N>
// HELP-DAG: --threads=<N>

func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
