// i64, i32 and i1 (bool) arguments and results.
//
// RUN: %python %S/Inputs/npytool.py save %t.i.npy "np.array([1, 5, -3, 2**40], dtype=np.int64)"
// RUN: %python %S/Inputs/npytool.py save %t.j.npy "np.array([2, 5, 0, -7], dtype=np.int32)"
// RUN: %python %S/Inputs/npytool.py save %t.m.npy "np.array([True, False, True, False])"
// RUN: attnflow-run %s --input=%t.i.npy --input=%t.j.npy --input=%t.m.npy --output=%t.sum.npy --output=%t.neg.npy --output=%t.lt.npy
// RUN: %python %S/Inputs/npytool.py print %t.sum.npy %t.neg.npy %t.lt.npy | FileCheck %s

// i + j (in i64), -j (in i32), (i < j) xor m.
// CHECK: int64 (4,)
// CHECK-NEXT: [3, 10, -3, 1099511627769]
// CHECK-NEXT: int32 (4,)
// CHECK-NEXT: [-2, -5, 0, 7]
// CHECK-NEXT: bool (4,)
// CHECK-NEXT: [False, False, False, False]

#map = affine_map<(d0) -> (d0)>
func.func @main(%i: tensor<4xi64>, %j: tensor<4xi32>, %m: tensor<4xi1>)
    -> (tensor<4xi64>, tensor<4xi32>, tensor<4xi1>) {
  %e64 = tensor.empty() : tensor<4xi64>
  %e32 = tensor.empty() : tensor<4xi32>
  %e1 = tensor.empty() : tensor<4xi1>
  %r:3 = linalg.generic {indexing_maps = [#map, #map, #map, #map, #map, #map],
                         iterator_types = ["parallel"]}
      ins(%i, %j, %m : tensor<4xi64>, tensor<4xi32>, tensor<4xi1>)
      outs(%e64, %e32, %e1 : tensor<4xi64>, tensor<4xi32>, tensor<4xi1>) {
  ^bb0(%x: i64, %y: i32, %b: i1, %o0: i64, %o1: i32, %o2: i1):
    %y64 = arith.extsi %y : i32 to i64
    %sum = arith.addi %x, %y64 : i64
    %zero = arith.constant 0 : i32
    %neg = arith.subi %zero, %y : i32
    %lt = arith.cmpi slt, %x, %y64 : i64
    %res = arith.xori %lt, %b : i1
    linalg.yield %sum, %neg, %res : i64, i32, i1
  } -> (tensor<4xi64>, tensor<4xi32>, tensor<4xi1>)
  return %r#0, %r#1, %r#2 : tensor<4xi64>, tensor<4xi32>, tensor<4xi1>
}
