// RUN: attnflow-opt %s --split-input-file --attnflow-expand-strided-copies | FileCheck %s

// A copy into a subview (what bufferizing tensor.insert_slice leaves) becomes
// an elementwise linalg.generic: finalize-memref-to-llvm would otherwise
// lower it to a call to the runtime library's memrefCopy.
// CHECK-DAG:   #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @into_subview(
// CHECK-SAME:    %[[SRC:.*]]: memref<2x3xf32>, %[[DST:.*]]: memref<4x6xf32>)
// CHECK:         %[[SV:.*]] = memref.subview %[[DST]][1, 2] [2, 3] [1, 1]
// CHECK-NOT:     memref.copy
// CHECK:         linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[SRC]] : memref<2x3xf32>) outs(%[[SV]] : memref<2x3xf32, strided<[6, 1], offset: 8>>)
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK-NOT:     memref.copy
func.func @into_subview(%src: memref<2x3xf32>, %dst: memref<4x6xf32>) {
  %sv = memref.subview %dst[1, 2] [2, 3] [1, 1] : memref<4x6xf32> to memref<2x3xf32, strided<[6, 1], offset: 8>>
  memref.copy %src, %sv : memref<2x3xf32> to memref<2x3xf32, strided<[6, 1], offset: 8>>
  return
}

// -----

// A non-identity source is enough, 0-d included.
// CHECK-LABEL: func.func @from_strided(
// CHECK-NOT:     memref.copy
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}} : memref<2x3xf32, strided<[?, ?], offset: ?>>) outs(%{{.*}} : memref<2x3xf32>)
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = []}
// CHECK-SAME:      ins(%{{.*}} : memref<f32, strided<[], offset: ?>>) outs(%{{.*}} : memref<f32>)
// CHECK-NOT:     memref.copy
func.func @from_strided(%src: memref<2x3xf32, strided<[?, ?], offset: ?>>, %dst: memref<2x3xf32>,
                        %src0: memref<f32, strided<[], offset: ?>>, %dst0: memref<f32>) {
  memref.copy %src, %dst : memref<2x3xf32, strided<[?, ?], offset: ?>> to memref<2x3xf32>
  memref.copy %src0, %dst0 : memref<f32, strided<[], offset: ?>> to memref<f32>
  return
}

// -----

// Not touched: copies between identity layouts (they become llvm.memcpy) and
// unranked copies (linalg.generic needs a rank).
// CHECK-LABEL: func.func @kept(
// CHECK-NEXT:    memref.copy %{{.*}}, %{{.*}} : memref<2x3xf32> to memref<2x3xf32>
// CHECK-NEXT:    memref.copy %{{.*}}, %{{.*}} : memref<*xf32> to memref<*xf32>
// CHECK-NEXT:    return
func.func @kept(%src: memref<2x3xf32>, %dst: memref<2x3xf32>, %usrc: memref<*xf32>, %udst: memref<*xf32>) {
  memref.copy %src, %dst : memref<2x3xf32> to memref<2x3xf32>
  memref.copy %usrc, %udst : memref<*xf32> to memref<*xf32>
  return
}
