// RUN: attnflow-opt %s --attnflow-cpu-math | FileCheck %s

// libm declarations for expm1, created by the pass.
// CHECK-DAG:   func.func private @expm1(f64) -> f64 attributes {llvm.readnone}
// CHECK-DAG:   func.func private @expm1f(f32) -> f32 attributes {llvm.readnone}

// f32 exp, tanh and erf (scalars and vectors) become polynomials built from
// fma: no math call is left for them.
// CHECK-LABEL: func.func @approximated(
// CHECK-NOT:     math.{{(exp|tanh|erf) }}
// CHECK:         math.fma {{.*}} : f32
// CHECK-NOT:     math.{{(exp|tanh|erf) }}
// CHECK:         math.fma {{.*}} : vector<4xf32>
// CHECK-NOT:     math.{{(exp|tanh|erf) }}
// CHECK:         return
func.func @approximated(%x: f32, %v: vector<4xf32>) -> (f32, f32, f32, vector<4xf32>) {
  %0 = math.exp %x : f32
  %1 = math.tanh %x : f32
  %2 = math.erf %x : f32
  %3 = math.exp %v : vector<4xf32>
  return %0, %1, %2, %3 : f32, f32, f32, vector<4xf32>
}

// log1p becomes the compensated log(1 + x) * x / ((1 + x) - 1), keeping
// libm's log.
// CHECK-LABEL: func.func @log1p(
// CHECK-SAME:    %[[X:.*]]: f32)
// CHECK-NOT:     math.log1p
// CHECK:         %[[U:.*]] = arith.addf %[[X]], %[[ONE:.*]] : f32
// CHECK:         %[[LOG:.*]] = math.log %[[U]] : f32
// CHECK:         %[[DEN:.*]] = arith.subf %[[U]], %[[ONE]] : f32
// CHECK:         arith.divf %[[LOG]], %[[DEN]] : f32
// CHECK-NOT:     math.log1p
// CHECK:         return
func.func @log1p(%x: f32) -> f32 {
  %0 = math.log1p %x : f32
  return %0 : f32
}

// f16 is computed with the f32 approximation, then rounded.
// CHECK-LABEL: func.func @exp_f16(
// CHECK:         arith.extf %{{.*}} : f16 to f32
// CHECK-NOT:     math.exp
// CHECK:         arith.truncf %{{.*}} : f32 to f16
// CHECK-NEXT:    return
func.func @exp_f16(%x: f16) -> f16 {
  %0 = math.exp %x : f16
  return %0 : f16
}

// Left to math-to-llvm / math-to-libm: functions whose approximation is less
// accurate than libm (sin / cos of large angles among them), and f64.
// CHECK-LABEL: func.func @kept(
// CHECK-NEXT:    math.sin %{{.*}} : f32
// CHECK-NEXT:    math.cos %{{.*}} : f32
// CHECK-NEXT:    math.log %{{.*}} : f32
// CHECK-NEXT:    math.atan %{{.*}} : f32
// CHECK-NEXT:    math.erfc %{{.*}} : f32
// CHECK-NEXT:    math.cbrt %{{.*}} : f32
// CHECK-NEXT:    math.exp %{{.*}} : f64
// CHECK-NEXT:    math.tanh %{{.*}} : f64
// CHECK-NEXT:    return
func.func @kept(%x: f32, %d: f64) -> (f32, f32, f32, f32, f32, f32, f64, f64) {
  %0 = math.sin %x : f32
  %1 = math.cos %x : f32
  %2 = math.log %x : f32
  %3 = math.atan %x : f32
  %4 = math.erfc %x : f32
  %5 = math.cbrt %x : f32
  %6 = math.exp %d : f64
  %7 = math.tanh %d : f64
  return %0, %1, %2, %3, %4, %5, %6, %7 : f32, f32, f32, f32, f32, f32, f64, f64
}

// expm1 calls libm (math-to-llvm would compute exp(x) - 1); vectors are
// unrolled.
// CHECK-LABEL: func.func @expm1_to_libm(
// CHECK-SAME:    %[[X:.*]]: f32, %[[D:.*]]: f64, %[[V:.*]]: vector<2xf32>)
// CHECK:         call @expm1f(%[[X]]) : (f32) -> f32
// CHECK:         call @expm1(%[[D]]) : (f64) -> f64
// CHECK:         %[[V0:.*]] = vector.extract %[[V]][0] : f32 from vector<2xf32>
// CHECK:         call @expm1f(%[[V0]]) : (f32) -> f32
// CHECK:         %[[V1:.*]] = vector.extract %[[V]][1] : f32 from vector<2xf32>
// CHECK:         call @expm1f(%[[V1]]) : (f32) -> f32
// CHECK-NOT:     math.expm1
// CHECK:         return
func.func @expm1_to_libm(%x: f32, %d: f64, %v: vector<2xf32>) -> (f32, f64, vector<2xf32>) {
  %0 = math.expm1 %x : f32
  %1 = math.expm1 %d : f64
  %2 = math.expm1 %v : vector<2xf32>
  return %0, %1, %2 : f32, f64, vector<2xf32>
}

// isinf and isnormal (no LLVM lowering) become compares on |x|, any float
// type: isinf(x) = |x| == inf, isnormal(x) = smallest normal <= |x| < inf.
// CHECK-LABEL: func.func @classify(
// CHECK-SAME:    %[[X:.*]]: f32, %[[V:.*]]: vector<4xf64>)
// CHECK-DAG:     %[[VINF:.*]] = arith.constant dense<0x7FF0000000000000> : vector<4xf64>
// CHECK-DAG:     %[[VMIN:.*]] = arith.constant dense<2.2250738585072014E-308> : vector<4xf64>
// CHECK-DAG:     %[[MIN:.*]] = arith.constant 1.17549435E-38 : f32
// CHECK-DAG:     %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK:         %[[A0:.*]] = math.absf %[[X]] : f32
// CHECK:         %[[ISINF:.*]] = arith.cmpf oeq, %[[A0]], %[[INF]] : f32
// CHECK:         %[[A1:.*]] = math.absf %[[X]] : f32
// CHECK:         %[[GE:.*]] = arith.cmpf oge, %[[A1]], %[[MIN]] : f32
// CHECK:         %[[LT:.*]] = arith.cmpf olt, %[[A1]], %[[INF]] : f32
// CHECK:         %[[ISNORMAL:.*]] = arith.andi %[[GE]], %[[LT]] : i1
// CHECK:         %[[VA:.*]] = math.absf %[[V]] : vector<4xf64>
// CHECK:         %[[VGE:.*]] = arith.cmpf oge, %[[VA]], %[[VMIN]] : vector<4xf64>
// CHECK:         %[[VLT:.*]] = arith.cmpf olt, %[[VA]], %[[VINF]] : vector<4xf64>
// CHECK:         %[[VNORMAL:.*]] = arith.andi %[[VGE]], %[[VLT]] : vector<4xi1>
// CHECK:         return %[[ISINF]], %[[ISNORMAL]], %[[VNORMAL]]
func.func @classify(%x: f32, %v: vector<4xf64>) -> (i1, i1, vector<4xi1>) {
  %0 = math.isinf %x : f32
  %1 = math.isnormal %x : f32
  %2 = math.isnormal %v : vector<4xf64>
  return %0, %1, %2 : i1, i1, vector<4xi1>
}
