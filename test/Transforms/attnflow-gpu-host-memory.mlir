// RUN: attnflow-opt %s --split-input-file --attnflow-gpu-host-memory --verify-diagnostics | FileCheck %s

// Host buffers become device memory: the kernel's output and a scratch
// buffer are gpu.alloc'd; the scratch buffer is freed before the return, the
// returned one is owned by the caller; a global read by the kernel moves
// into it (outlining then copies the global into the GPU module).
// CHECK-LABEL: func.func @launches
// CHECK:         %[[OUT:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK:         %[[TMP:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK:         gpu.launch
// CHECK:           %[[TABLE:.*]] = memref.get_global @table : memref<4xf32>
// CHECK:           memref.load %[[TABLE]]
// CHECK:         gpu.dealloc  %[[TMP]] : memref<4xf32>
// CHECK-NOT:     gpu.dealloc
// CHECK:         return %[[OUT]]
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @launches(%in: memref<4xf32>) -> memref<4xf32> {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %table = memref.get_global @table : memref<4xf32>
  %out = memref.alloc() : memref<4xf32>
  %tmp = memref.alloc() : memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c4, %v = %c1, %w = %c1) {
    %a = memref.load %in[%tx] : memref<4xf32>
    %t = memref.load %table[%tx] : memref<4xf32>
    %s = arith.addf %a, %t : f32
    memref.store %s, %tmp[%tx] : memref<4xf32>
    memref.store %s, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  return %out : memref<4xf32>
}

// -----

// A returned argument, a returned global and a buffer returned twice are
// copied into fresh device buffers: every result is a new allocation the
// caller frees. An explicit host copy becomes gpu.memcpy and an explicit
// dealloc gpu.dealloc.
// CHECK-LABEL: func.func @fresh_results
// CHECK-SAME:    (%[[ARG:.*]]: memref<4xf32>)
// CHECK:         %[[A:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK:         gpu.memcpy  %[[A]], %[[ARG]]
// CHECK:         %[[B:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK:         gpu.dealloc  %[[B]]
// CHECK:         %[[R0:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK:         gpu.memcpy  %[[R0]], %[[ARG]]
// CHECK:         %[[R1:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK:         gpu.memcpy  %[[R1]], %{{.*}} : memref<4xf32>, memref<4xf32>
// CHECK:         %[[R3:.*]] = gpu.alloc  () : memref<4xf32>
// CHECK:         gpu.memcpy  %[[R3]], %[[A]]
// CHECK-NOT:     gpu.dealloc
// CHECK:         return %[[R0]], %[[R1]], %[[A]], %[[R3]]
memref.global "private" constant @ones : memref<4xf32> = dense<1.0>
func.func @fresh_results(%arg: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>) {
  %g = memref.get_global @ones : memref<4xf32>
  %a = memref.alloc() : memref<4xf32>
  memref.copy %arg, %a : memref<4xf32> to memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  memref.dealloc %b : memref<4xf32>
  return %arg, %g, %a, %a : memref<4xf32>, memref<4xf32>, memref<4xf32>, memref<4xf32>
}

// -----

func.func @host_load(%m: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.load' accesses a buffer from host code, but on the GPU path buffers live in device memory; only kernels may read or write them}}
  %x = memref.load %m[%c0] : memref<4xf32>
  return %x : f32
}

// -----

func.func @host_alloca() -> memref<4xf32> {
  // expected-error @+1 {{'memref.alloca' in host code: a host stack buffer is not visible to kernels}}
  %a = memref.alloca() : memref<4xf32>
  return %a : memref<4xf32>
}

// -----

func.func @alloc_in_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    // expected-error @+1 {{allocation inside host control flow: the GPU pipeline frees host-side buffers at the end of the function and supports straight-line host code only}}
    %a = memref.alloc() : memref<4xf32>
  }
  return
}

// -----

func.func @strided_copy(%a: memref<4x4xf32>, %b: memref<2x2xf32>) {
  %s = memref.subview %a[0, 0] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1]>>
  // expected-error @+1 {{copies between non-identity layouts need a kernel: run attnflow-expand-strided-copies first}}
  memref.copy %s, %b : memref<2x2xf32, strided<[4, 1]>> to memref<2x2xf32>
  return
}

// -----

func.func @returned_view(%a: memref<4x4xf32>) -> memref<2x2xf32, strided<[4, 1]>> {
  %s = memref.subview %a[0, 0] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1]>>
  // expected-error @+1 {{result #0 is a view of type 'memref<2x2xf32, strided<[4, 1]>>'; GPU entry points return contiguous, statically shaped buffers}}
  return %s : memref<2x2xf32, strided<[4, 1]>>
}

// -----

// A function owns the buffers its calls return: one call result is
// returned, the other is freed.
// CHECK-LABEL: func.func @calls
// CHECK:         %[[A:.*]] = call @make() : () -> memref<4xf32>
// CHECK:         %[[B:.*]] = call @make() : () -> memref<4xf32>
// CHECK:         gpu.dealloc  %[[A]] : memref<4xf32>
// CHECK-NOT:     gpu.dealloc
// CHECK:         return %[[B]]
func.func private @make() -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}
func.func @calls() -> memref<4xf32> {
  %a = call @make() : () -> memref<4xf32>
  %b = call @make() : () -> memref<4xf32>
  return %b : memref<4xf32>
}

// -----

func.func private @host_fn(memref<4xf32>) -> memref<4xf32>
func.func @external_call(%m: memref<4xf32>) -> memref<4xf32> {
  // expected-error @+1 {{calls the external function 'host_fn' with buffers, but on the GPU path buffers live in device memory}}
  %r = call @host_fn(%m) : (memref<4xf32>) -> memref<4xf32>
  return %r : memref<4xf32>
}

// -----

func.func @unranked(%m: memref<4xf32>) -> memref<*xf32> {
  // expected-error @+1 {{'memref.cast' passes an unranked buffer in host code; the GPU pipeline tracks the ownership of ranked buffers only}}
  %u = memref.cast %m : memref<4xf32> to memref<*xf32>
  return %u : memref<*xf32>
}

// -----

// A scalar read back: the host loads the only element of a device buffer (a
// convergence test of a host loop). The load reads a host stack slot of the
// function, filled by a gpu.memcpy from the device right before it
// (gpu-async-region later puts the host wait between them); the buffer
// itself is device memory as usual.
// CHECK-LABEL: func.func @read_back
// CHECK:         %[[HOST:.*]] = memref.alloca() : memref<1xf32>
// CHECK:         %[[DEV:.*]] = gpu.alloc  () : memref<1xf32>
// CHECK:         scf.while
// CHECK:           gpu.launch
// CHECK:           gpu.memcpy  %[[HOST]], %[[DEV]] : memref<1xf32>, memref<1xf32>
// CHECK-NEXT:      %[[X:.*]] = memref.load %[[HOST]][%{{.*}}] : memref<1xf32>
// CHECK:           arith.cmpf ogt, %[[X]]
// CHECK:         gpu.dealloc  %[[DEV]]
func.func @read_back(%tol: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d = memref.alloc() : memref<1xf32>
  scf.while : () -> () {
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

// -----

// Allocations in a kernel (an scf.forall body's temporaries) are per-thread
// scratch: stack buffers at the start of the kernel, their deallocs gone.
// CHECK-LABEL: func.func @kernel_scratch
// CHECK:         gpu.launch
// CHECK-NEXT:      %[[T:.*]] = memref.alloca() {alignment = 64 : i64} : memref<4xf32>
// CHECK:           scf.if
// CHECK-NOT:         memref.alloc()
// CHECK:             memref.store %{{.*}}, %[[T]]
// CHECK-NOT:     memref.dealloc
func.func @kernel_scratch(%m: memref<4xf32>, %p: i1) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c4, %v = %c1, %w = %c1) {
    scf.if %p {
      %t = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
      %a = memref.load %m[%tx] : memref<4xf32>
      memref.store %a, %t[%tx] : memref<4xf32>
      memref.dealloc %t : memref<4xf32>
    }
    gpu.terminator
  }
  return
}

// -----

func.func @kernel_loop_alloc(%m: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    scf.for %i = %c0 to %c4 step %c1 {
      // expected-error @+1 {{allocation inside a loop of a kernel: its buffer may live across iterations, so it cannot become one per-thread stack buffer}}
      %t = memref.alloc() : memref<4xf32>
    }
    gpu.terminator
  }
  return
}

// -----

// Only loads are read back: a host store to a one-element buffer stays an
// error, and so does a load through a strided one-element view.
func.func @host_scalar_store(%m: memref<1xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.store' accesses a buffer from host code, but on the GPU path buffers live in device memory; only kernels may read or write them}}
  memref.store %x, %m[%c0] : memref<1xf32>
  return
}

// -----

func.func @host_strided_scalar_load(%m: memref<4x4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %s = memref.subview %m[1, 1] [1, 1] [1, 1] : memref<4x4xf32> to memref<1x1xf32, strided<[4, 1], offset: 5>>
  // expected-error @+1 {{'memref.load' accesses a buffer from host code, but on the GPU path buffers live in device memory; only kernels may read or write them}}
  %x = memref.load %s[%c0, %c0] : memref<1x1xf32, strided<[4, 1], offset: 5>>
  return %x : f32
}

// -----

func.func @kernel_dynamic_alloc(%n: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1) threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    // expected-error @+1 {{allocation of a dynamic shape inside a kernel: per-thread scratch must be statically shaped}}
    %t = memref.alloc(%n) : memref<?xf32>
    gpu.terminator
  }
  return
}
