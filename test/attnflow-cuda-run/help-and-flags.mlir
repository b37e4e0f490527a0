// attnflow-cuda-run's command line: --help, and bad flags reported as one
// `attnflow-cuda-run: error:` line (with attnflow-run's messages), before
// anything is loaded. No GPU is needed.
//
// REQUIRES: cuda-runtime
//
// RUN: attnflow-cuda-run --help | FileCheck %s --check-prefix=HELP
// RUN: attnflow-cuda-run -help | FileCheck %s --check-prefix=HELP
// HELP: USAGE: attnflow-cuda-run [options] <module .so>
// HELP: attnflow-cuda-run options:
// HELP-DAG: --entry=<name>
// HELP-DAG: --input=<file.npy>
// HELP-DAG: --output=<file.npy>
// HELP-DAG: --random-inputs
// HELP-DAG: --seed=<N>
// HELP-DAG: --repeat=<N>
// HELP-DAG: --warmup=<N>
// HELP-DAG: --verbose
// HELP-DAG: _attnflow_signature_<entry>
// HELP-DAG: _mlir_ciface_<entry>
// HELP-DAG: clang -shared -o model.so model.o
// HELP-DAG: ATTNFLOW_CUDA_DRIVER
// HELP-DAG: min X ms, median Y ms over N runs
//
// RUN: not attnflow-cuda-run %t.so --bogus 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: attnflow-cuda-run: error: Unknown command line argument '--bogus'.
// UNKNOWN-NOT: note
// RUN: not attnflow-cuda-run %t.so --inptu=x.npy 2>&1 | FileCheck %s --check-prefix=TYPO
// TYPO: attnflow-cuda-run: error: Unknown command line argument '--inptu=x.npy'.
// TYPO-NEXT: attnflow-cuda-run: note: Did you mean '--input=x.npy'?
// RUN: not attnflow-cuda-run %t.so --threads=2 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: attnflow-cuda-run: error: Unknown command line argument '--threads=2'.
// RUN: not attnflow-cuda-run 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: attnflow-cuda-run: error: Not enough positional command line arguments specified!
// NOFILE-NEXT: attnflow-cuda-run: note: usage: attnflow-cuda-run [options] <module .so> (see --help)
// RUN: not attnflow-cuda-run %t.a.so %t.b.so 2>&1 | FileCheck %s --check-prefix=TWOFILES
// TWOFILES: attnflow-cuda-run: error: Too many positional arguments specified!
// RUN: not attnflow-cuda-run %t.so --input 2>&1 | FileCheck %s --check-prefix=NOVALUE
// NOVALUE: attnflow-cuda-run: error: for the --input option: requires a value!
// RUN: not attnflow-cuda-run %t.so --random-inputs=maybe 2>&1 | FileCheck %s --check-prefix=NOTBOOL
// NOTBOOL: attnflow-cuda-run: error: for the --random-inputs option: 'maybe' is invalid value for boolean argument! Try 0 or 1
//
// RUN: not attnflow-cuda-run %t.so --random-inputs --repeat=abc 2>&1 | FileCheck %s --check-prefix=NOTINT
// NOTINT: attnflow-cuda-run: error: for the --repeat option: 'abc' value invalid for integer argument!
// RUN: not attnflow-cuda-run %t.so --random-inputs --repeat=99999999999 2>&1 | FileCheck %s --check-prefix=BIGINT
// BIGINT: attnflow-cuda-run: error: for the --repeat option: '99999999999' value invalid for integer argument!
// RUN: not attnflow-cuda-run %t.so --random-inputs --repeat=0 2>&1 | FileCheck %s --check-prefix=REPEAT0
// REPEAT0: attnflow-cuda-run: error: --repeat must be >= 1 (got 0)
// RUN: not attnflow-cuda-run %t.so --random-inputs --repeat=-2 2>&1 | FileCheck %s --check-prefix=REPEATNEG
// REPEATNEG: attnflow-cuda-run: error: --repeat must be >= 1 (got -2)
// RUN: not attnflow-cuda-run %t.so --random-inputs --repeat 2 --warmup=-1 2>&1 | FileCheck %s --check-prefix=WARMUPNEG
// WARMUPNEG: attnflow-cuda-run: error: --warmup must be >= 0 (got -1)
// RUN: not attnflow-cuda-run %t.so --random-inputs --warmup=3 2>&1 | FileCheck %s --check-prefix=WARMUP
// WARMUP: attnflow-cuda-run: error: --warmup needs --repeat
// RUN: not attnflow-cuda-run %t.so --seed=3 2>&1 | FileCheck %s --check-prefix=SEED
// SEED: attnflow-cuda-run: error: --seed needs --random-inputs
// RUN: not attnflow-cuda-run %t.so --random-inputs --seed=-3 2>&1 | FileCheck %s --check-prefix=SEEDNEG
// SEEDNEG: attnflow-cuda-run: error: for the --seed option: '-3' value invalid for ulong argument!
// RUN: not attnflow-cuda-run %t.so --random-inputs --input=%t.x.npy 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: attnflow-cuda-run: error: --random-inputs and --input are mutually exclusive
// RUN: not attnflow-cuda-run %t.so --random-inputs --output=%t.o.npy --output=%t.o.npy 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: attnflow-cuda-run: error: --output {{.*}}.o.npy is given twice
