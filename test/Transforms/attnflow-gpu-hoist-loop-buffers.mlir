// RUN: attnflow-opt %s --split-input-file --attnflow-gpu-hoist-loop-buffers | FileCheck %s

// A scratch buffer used only by kernels and a copy of one iteration (and
// freed in it) moves in front of the outermost loop; the dealloc goes.
// CHECK-LABEL: func.func @scratch
// CHECK:         %[[TMP:.*]] = memref.alloc() : memref<4xf32>
// CHECK:         %[[VIEW:.*]] = memref.alloc() : memref<2x4xf32>
// CHECK-NEXT:    scf.for
// CHECK-NEXT:      scf.for
// CHECK-NOT:         memref.alloc
// CHECK:             gpu.launch
// CHECK:               memref.store %{{.*}}, %[[TMP]]
// CHECK:             memref.subview %[[VIEW]]
// CHECK:             memref.copy %[[TMP]], %{{.*}}
// CHECK-NOT:         memref.dealloc
func.func @scratch(%state: memref<4xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %n step %c1 {
    scf.for %j = %c0 to %n step %c1 {
      %tmp = memref.alloc() : memref<4xf32>
      %rows = memref.alloc() : memref<2x4xf32>
      gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c4, %v = %c1, %w = %c1) {
        %a = memref.load %state[%tx] : memref<4xf32>
        memref.store %a, %tmp[%tx] : memref<4xf32>
        gpu.terminator
      }
      %row = memref.subview %rows[0, 0] [1, 4] [1, 1] : memref<2x4xf32> to memref<4xf32, strided<[1]>>
      memref.copy %tmp, %row : memref<4xf32> to memref<4xf32, strided<[1]>>
      memref.copy %tmp, %state : memref<4xf32> to memref<4xf32>
      memref.dealloc %tmp : memref<4xf32>
    }
  }
  return
}

// -----

// A buffer the loop yields carries values to the next iteration, and a
// buffer with a dynamic size is sized per iteration: both stay (for
// attnflow-gpu-host-memory to diagnose).
// CHECK-LABEL: func.func @escaping
// CHECK:         scf.for
// CHECK:           memref.alloc() : memref<4xf32>
// CHECK:           memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK:           scf.yield
func.func @escaping(%init: memref<4xf32>, %n: index) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%cur = %init) -> (memref<4xf32>) {
    %next = memref.alloc() : memref<4xf32>
    %dyn = memref.alloc(%i) : memref<?xf32>
    memref.copy %cur, %next : memref<4xf32> to memref<4xf32>
    scf.yield %next : memref<4xf32>
  }
  return %r : memref<4xf32>
}

// -----

// Straight-line allocations are not touched.
// CHECK-LABEL: func.func @straight_line
// CHECK-NEXT:    memref.alloc
// CHECK-NEXT:    return
func.func @straight_line() -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}

// -----

// A buffer the host reads back within the iteration (DEER's change,
// reduced by a kernel, decides whether the while loop goes on) is hoisted
// too: the load sees only what this iteration's kernel wrote.
// CHECK-LABEL: func.func @read_back
// CHECK:         %[[D:.*]] = memref.alloc() : memref<1xf32>
// CHECK-NEXT:    scf.while
// CHECK-NOT:       memref.alloc
// CHECK:           memref.load %[[D]]
func.func @read_back(%tol: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.while : () -> () {
    %d = memref.alloc() : memref<1xf32>
    gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
      memref.store %tol, %d[%tx] : memref<1xf32>
      gpu.terminator
    }
    %x = memref.load %d[%c0] : memref<1xf32>
    %go = arith.cmpf ogt, %x, %tol : f32
    scf.condition(%go)
  } do {
    scf.yield
  }
  return
}
