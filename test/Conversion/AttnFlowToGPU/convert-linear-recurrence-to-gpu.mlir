// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --convert-linear-recurrence-to-gpu | FileCheck %s

// Diagonal, N = 40: grid [2, B] of 32 x 8 threads; shared memory for the
// pairs and carries of 8 segments x 32 columns (3 x 256 f32); three phases
// split by two barriers; states stored rounded to the element type.
// CHECK-LABEL: func.func @diagonal
// CHECK: %[[A:.*]] = bufferization.to_buffer %arg0 read_only : tensor<2x100x40xf16>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<2x100x40xf16>
// CHECK: %[[SMEM:.*]] = arith.constant 3072 : i32
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c2{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c256{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) dynamic_shared_memory_size %[[SMEM]]
// CHECK: scf.for
// CHECK: arith.extf {{.*}} : f16 to f32
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: memref.store {{.*}}, %[[OUT]]
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @diagonal(%a: tensor<2x100x40xf16>, %b: tensor<2x100x40xf16>) -> tensor<2x100x40xf16> {
  %h = attnflow.linear_recurrence %a, %b : tensor<2x100x40xf16>, tensor<2x100x40xf16> -> tensor<2x100x40xf16>
  return %h : tensor<2x100x40xf16>
}

// -----

// Dense N = 3: grid [1, B] of 64 threads, 64 x (9 + 3 + 3) f32 of shared
// memory.
// CHECK-LABEL: func.func @dense
// CHECK: %[[SMEM:.*]] = arith.constant 3840 : i32
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c64{{.*}}, {{.*}}) dynamic_shared_memory_size %[[SMEM]]
func.func @dense(%a: tensor<3x50x3x3xf32>, %b: tensor<3x50x3xf32>, %h0: tensor<3x3xf32>) -> tensor<3x50x3xf32> {
  %h = attnflow.linear_recurrence %a, %b, %h0 : tensor<3x50x3x3xf32>, tensor<3x50x3xf32>, tensor<3x3xf32> -> tensor<3x50x3xf32>
  return %h : tensor<3x50x3xf32>
}

// -----

// Dense N = 16: 32 segments (threads), 32 x (256 + 16 + 16) f32 = 36864 bytes
// of shared memory, within the 48 KiB a launch gets without opting in.
// CHECK-LABEL: func.func @dense_16
// CHECK: %[[SMEM:.*]] = arith.constant 36864 : i32
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c32{{.*}}, {{.*}}) dynamic_shared_memory_size %[[SMEM]]
func.func @dense_16(%a: tensor<2x40x16x16xf32>, %b: tensor<2x40x16xf32>) -> tensor<2x40x16xf32> {
  %h = attnflow.linear_recurrence %a, %b : tensor<2x40x16x16xf32>, tensor<2x40x16xf32> -> tensor<2x40x16xf32>
  return %h : tensor<2x40x16xf32>
}

// -----

func.func @dense_too_large(%a: tensor<1x50x17x17xf32>, %b: tensor<1x50x17xf32>) -> tensor<1x50x17xf32> {
  // expected-error @+1 {{on the GPU supports dense a with N <= 16 (the per-thread N x N chunk product), got N = 17}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x50x17x17xf32>, tensor<1x50x17xf32> -> tensor<1x50x17xf32>
  return %h : tensor<1x50x17xf32>
}
