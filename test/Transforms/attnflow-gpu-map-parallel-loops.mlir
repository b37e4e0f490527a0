// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-gpu-map-parallel-loops | FileCheck %s
// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-gpu-map-parallel-loops --convert-parallel-loops-to-gpu --canonicalize | FileCheck %s --check-prefix=LAUNCH
// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-gpu-map-parallel-loops="block-size=128" --convert-parallel-loops-to-gpu --canonicalize | FileCheck %s --check-prefix=BLOCK128
// RUN: not attnflow-opt %s --attnflow-gpu-map-parallel-loops="block-size=2048" 2>&1 | FileCheck %s --check-prefix=BAD

// A 3-d elementwise loop (4 x 100 x 64 = 25600 elements) is collapsed to one
// dimension and tiled by 256: tiles map to block_x, elements to thread_x,
// and the tail is guarded. convert-parallel-loops-to-gpu then launches
// 25600 / 256 = 100 blocks of 256 threads (128 blocks of 128 threads with
// block-size=128), never one thread per block.
// CHECK-LABEL: func.func @elementwise
// CHECK:         %[[N:.*]] = arith.muli %{{.*}}, %c64{{.*}} : index
// CHECK:         %[[TILE:.*]] = arith.muli %{{.*}}, %c256 : index
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[N]]) step (%[[TILE]])
// CHECK:           scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[TILE]]) step (%{{.*}})
// CHECK:             arith.cmpi ult, %{{.*}}, %[[N]] : index
// CHECK:             scf.if
// CHECK:               memref.store
// CHECK:           } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// CHECK:         } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// LAUNCH-LABEL: func.func @elementwise
// LAUNCH-DAG:     %[[C1:.*]] = arith.constant 1 : index
// LAUNCH-DAG:     %[[C100:.*]] = arith.constant 100 : index
// LAUNCH-DAG:     %[[C256:.*]] = arith.constant 256 : index
// LAUNCH:         gpu.launch blocks(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %[[C100]], %{{[a-z0-9]+}} = %[[C1]], %{{[a-z0-9]+}} = %[[C1]]) threads(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %[[C256]], %{{[a-z0-9]+}} = %[[C1]], %{{[a-z0-9]+}} = %[[C1]])
// BLOCK128-LABEL: func.func @elementwise
// BLOCK128-DAG:     %[[C1:.*]] = arith.constant 1 : index
// BLOCK128-DAG:     %[[C128:.*]] = arith.constant 128 : index
// BLOCK128-DAG:     %[[C200:.*]] = arith.constant 200 : index
// BLOCK128:         gpu.launch blocks(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %[[C200]], %{{[a-z0-9]+}} = %[[C1]], %{{[a-z0-9]+}} = %[[C1]]) threads(%{{[a-z0-9]+}}, %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %[[C128]],
// BAD: error: attnflow-gpu-map-parallel-loops expects 1 <= block-size <= 1024, got 2048
func.func @elementwise(%in: memref<4x100x64xf32>, %out: memref<4x100x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %c100 = arith.constant 100 : index
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c4, %c100, %c64) step (%c1, %c1, %c1) {
    %x = memref.load %in[%i, %j, %k] : memref<4x100x64xf32>
    %y = arith.mulf %x, %x : f32
    memref.store %y, %out[%i, %j, %k] : memref<4x100x64xf32>
    scf.reduce
  }
  return
}

// -----

// Loops already inside a kernel are left alone; a nested parallel loop
// becomes an scf.for each thread runs (after a store, as in an scf.forall
// body, which convert-parallel-loops-to-gpu could not take as a mapped loop).
// CHECK-LABEL: func.func @nested
// CHECK:         gpu.launch
// CHECK:           scf.parallel
// CHECK-NOT:       mapping
// CHECK:           gpu.terminator
// CHECK:         scf.parallel
// CHECK:           scf.parallel
// CHECK:             scf.if
// CHECK:               memref.store
// CHECK-NEXT:          scf.for
// CHECK-NOT:             mapping
// CHECK:           } {mapping = [#gpu.loop_dim_map<processor = thread_x
// CHECK:         } {mapping = [#gpu.loop_dim_map<processor = block_x
// LAUNCH-LABEL: func.func @nested
// LAUNCH:         gpu.launch
// LAUNCH:         gpu.launch
// LAUNCH:           scf.if
// LAUNCH:             memref.store
// LAUNCH-NEXT:        scf.for
// LAUNCH-NEXT:          memref.store
func.func @nested(%m: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
      memref.store %f, %m[%i, %i] : memref<8x8xf32>
      scf.reduce
    }
    gpu.terminator
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %f, %m[%i, %i] : memref<8x8xf32>
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %f, %m[%i, %j] : memref<8x8xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

func.func @reduction(%m: memref<8xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f32
  // expected-error @+1 {{attnflow-gpu-map-parallel-loops does not map an scf.parallel with reductions (init values) to the GPU}}
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%z) -> f32 {
    %x = memref.load %m[%i] : memref<8xf32>
    scf.reduce(%x : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}

// -----

func.func @grid_too_large(%m: memref<1000000x1000000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1000000 : index
  %f = arith.constant 1.0 : f32
  // expected-error @+1 {{parallel loop of 1000000000000 iterations needs more than 2147483647 blocks of}}
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %n) step (%c1, %c1) {
    memref.store %f, %m[%i, %j] : memref<1000000x1000000xf32>
    scf.reduce
  }
  return
}
