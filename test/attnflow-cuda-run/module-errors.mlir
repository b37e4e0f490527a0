// Modules attnflow-cuda-run cannot use are reported clearly, with or without
// a GPU: missing or unreadable files, shared objects without the entry's C
// interface or signature, malformed signatures. The fake modules are built
// from C here.
//
// REQUIRES: cuda-runtime, clang
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: not attnflow-cuda-run %t/nothere.so 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: attnflow-cuda-run: error: cannot open module '{{.*}}nothere.so': No such file or directory
// RUN: not attnflow-cuda-run %t 2>&1 | FileCheck %s --check-prefix=DIR
// DIR: attnflow-cuda-run: error: cannot open module '{{.*}}': it is a directory
// RUN: not attnflow-cuda-run %s 2>&1 | FileCheck %s --check-prefix=NOTELF
// NOTELF: attnflow-cuda-run: error: cannot load module '{{.*}}module-errors.mlir': {{.*}}
//
// A shared object that needs a symbol nobody defines.
// RUN: echo 'void undefined_function(void); void f(void) { undefined_function(); }' > %t/undefined.c
// RUN: %clang -shared -fPIC %t/undefined.c -o %t/undefined.so
// RUN: not attnflow-cuda-run %t/undefined.so 2>&1 | FileCheck %s --check-prefix=UNDEFINED
// UNDEFINED: attnflow-cuda-run: error: cannot load module '{{.*}}undefined.so': {{.*}}undefined symbol: undefined_function
//
// No entry, no signature, another entry name.
// RUN: echo 'int unrelated = 1;' > %t/empty.c
// RUN: %clang -shared -fPIC %t/empty.c -o %t/empty.so
// RUN: not attnflow-cuda-run %t/empty.so 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: attnflow-cuda-run: error: no function named 'main' in {{.*}}empty.so (no symbol _mlir_ciface_main; the entry must be compiled with its C interface)
// RUN: echo 'void _mlir_ciface_main(void *r, void *a) {}' > %t/nosig.c
// RUN: %clang -shared -fPIC %t/nosig.c -o %t/nosig.so
// RUN: not attnflow-cuda-run %t/nosig.so --random-inputs 2>&1 | FileCheck %s --check-prefix=NOSIG
// NOSIG: attnflow-cuda-run: error: no signature for 'main' in {{.*}}nosig.so (no symbol _attnflow_signature_main; compile the module with attnflow-compile --target=cuda)
// RUN: not attnflow-cuda-run %t/nosig.so --entry=forward 2>&1 | FileCheck %s --check-prefix=OTHER
// OTHER: attnflow-cuda-run: error: no function named 'forward' in {{.*}}nosig.so (no symbol _mlir_ciface_forward;
//
// Malformed signatures (the module of fake_module.c has a few).
// RUN: %clang -shared -fPIC %S/Inputs/fake_module.c -o %t/module.so
// RUN: not attnflow-cuda-run %t/module.so --entry=badtype 2>&1 | FileCheck %s --check-prefix=BADTYPE
// BADTYPE: attnflow-cuda-run: error: malformed signature '4xq32->4xf32' of 'badtype' in {{.*}}module.so: '4xq32' has element type 'q32'; attnflow-cuda-run supports f64, f32, f16, bf16, i64, i32 and i1
// RUN: not attnflow-cuda-run %t/module.so --entry=dynamic 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: attnflow-cuda-run: error: malformed signature '?x4xf32->4xf32' of 'dynamic' in {{.*}}: '?x4xf32' has dimension '?'; only static, non-negative sizes are supported
// RUN: not attnflow-cuda-run %t/module.so --entry=noarrow 2>&1 | FileCheck %s --check-prefix=NOARROW
// NOARROW: attnflow-cuda-run: error: malformed signature '4xf32' of 'noarrow' in {{.*}}: expected one '->' between the argument and the result types
// RUN: not attnflow-cuda-run %t/module.so --entry=unsigned 2>&1 | FileCheck %s --check-prefix=UNSIGNED
// UNSIGNED: attnflow-cuda-run: error: no signature for 'unsigned' in
//
// A signature too large to allocate.
// RUN: echo 'const char _attnflow_signature_main[] = "4611686018427387904x4xf32->"; void _mlir_ciface_main(void *a) {}' > %t/huge.c
// RUN: %clang -shared -fPIC %t/huge.c -o %t/huge.so
// RUN: not attnflow-cuda-run %t/huge.so --random-inputs 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: attnflow-cuda-run: error: malformed signature '{{.*}}' of 'main' in {{.*}}huge.so: '4611686018427387904x4xf32' is too large to allocate
