// --emit=llvm-ir writes LLVM IR optimized at -O3 for the target CPU: the
// host CPU with its features by default, or --mcpu.
//
// RUN: attnflow-compile %s --target=cpu --emit=llvm-ir -o %t.ll
// RUN: FileCheck %s < %t.ll
// RUN: attnflow-compile %s --emit=llvm-ir --mcpu=x86-64 | grep -o '"target-cpu"="[^"]*"' | sort -u | FileCheck %s --check-prefix=MCPU

// CHECK: target datalayout = "{{.+}}"
// CHECK: target triple = "{{.+}}"
// CHECK-DAG: define { ptr, ptr, i64, [1 x i64], [1 x i64] } @scale(ptr {{.*}}, ptr {{.*}}, i64 {{.*}}, i64 {{.*}}, i64 {{.*}}) {{.*}}#[[ATTRS:[0-9]+]]
// CHECK-DAG: define void @_mlir_ciface_scale(ptr {{.*}}, ptr {{.*}})
// CHECK-DAG: declare {{.*}}ptr @malloc(i64
// CHECK-DAG: attributes #[[ATTRS]] = { {{.*}}"target-cpu"="{{[a-z0-9_-]+}}" "target-features"="{{.+}}"
//
// MCPU: "target-cpu"="x86-64"
// MCPU-NOT: {{.}}

func.func @scale(%a: tensor<16xf32>) -> tensor<16xf32> {
  %e = tensor.empty() : tensor<16xf32>
  %c = linalg.mul ins(%a, %a : tensor<16xf32>, tensor<16xf32>)
                  outs(%e : tensor<16xf32>) -> tensor<16xf32>
  return %c : tensor<16xf32>
}
