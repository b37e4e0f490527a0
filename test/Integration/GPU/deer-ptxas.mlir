// REQUIRES: ptxas
// rnn_solve on the GPU path. Newton (DEER, dense Jacobian derived from a
// tanh cell, N = 4): the loop over updates stays in host code; every
// update is 11 kernels (h0 and the iterate's head shifted into h_{t-1}, the
// per-step cell + Jacobian as one kernel, the linearized bias, the
// linear_recurrence scan, three max |change| reductions with their zero
// fills), then the one-element change is copied
// to a host stack slot, the stream synchronized and the slot loaded for the
// loop condition; a last kernel copies the update into the iterate. All
// buffers are allocated before the loop. quasi_newton (diagonal, N = 16)
// has the same structure; sequential is a host loop over t with one kernel
// per step. The PTX assembles for sm_80 and sm_90.
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.sm_80.ptx -o %t.sm_80.cubin
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.sm_90.ptx -o %t.sm_90.cubin
// RUN: attnflow-opt %s --attnflow-gpu-pipeline="chip=sm_90" | FileCheck %s

// CHECK-LABEL: llvm.func @newton(
// CHECK:         %[[HOST:.*]] = llvm.alloca %{{.*}} x f32 : (i64) -> !llvm.ptr
// CHECK-COUNT-2: llvm.call @mgpuMemAlloc
// CHECK:         gpu.launch_func
// CHECK-COUNT-6: llvm.call @mgpuMemAlloc
// CHECK-NOT:     gpu.launch_func
// CHECK:         llvm.cond_br
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK-COUNT-11: gpu.launch_func
// CHECK-NOT:     gpu.launch_func
// CHECK:         llvm.call @mgpuMemcpy(%[[HOST]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NEXT:    llvm.call @mgpuStreamSynchronize
// CHECK-NEXT:    llvm.call @mgpuStreamDestroy
// CHECK-NEXT:    llvm.load %[[HOST]] : !llvm.ptr -> f32
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK:         gpu.launch_func
// CHECK-NOT:     gpu.launch_func
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK:         llvm.br ^bb1
// CHECK:         gpu.launch_func
// CHECK-NOT:     gpu.launch_func
// CHECK:         llvm.call @mgpuMemFree
// CHECK:         llvm.return
func.func @newton(%h0: tensor<2x4xf32>, %u: tensor<2x10x3xf32>,
                  %w: tensor<4x4xf32>, %v: tensor<4x3xf32>)
    -> (tensor<2x10x4xf32>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u (%w, %v : tensor<4x4xf32>, tensor<4x3xf32>)
      {method = #attnflow.rnn_method<newton>, max_iterations = 8,
       tolerance = 1.0e-6 : f64}
      : tensor<2x4xf32>, tensor<2x10x3xf32> -> tensor<2x10x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<3xf32>, %wr: tensor<4x4xf32>, %vr: tensor<4x3xf32>):
        %vu = linalg.matvec ins(%vr, %ut : tensor<4x3xf32>, tensor<3xf32>)
                            outs(%hp : tensor<4xf32>) -> tensor<4xf32>
        %pre = linalg.matvec ins(%wr, %hp : tensor<4x4xf32>, tensor<4xf32>)
                             outs(%vu : tensor<4xf32>) -> tensor<4xf32>
        %t = math.tanh %pre : tensor<4xf32>
        attnflow.yield %t : tensor<4xf32>
      }
  return %h, %it : tensor<2x10x4xf32>, tensor<i64>
}

// CHECK-LABEL: llvm.func @quasi_newton(
// CHECK:         %[[QHOST:.*]] = llvm.alloca %{{.*}} x f32 : (i64) -> !llvm.ptr
// CHECK:         llvm.cond_br
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK:         llvm.call @mgpuMemcpy(%[[QHOST]], %{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NEXT:    llvm.call @mgpuStreamSynchronize
// CHECK-NEXT:    llvm.call @mgpuStreamDestroy
// CHECK-NEXT:    llvm.load %[[QHOST]] : !llvm.ptr -> f32
// CHECK:         llvm.br ^bb1
func.func @quasi_newton(%h0: tensor<3x16xf32>, %u: tensor<3x64x16xf32>,
                        %w: tensor<16x16xf32>)
    -> (tensor<3x64x16xf32>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u (%w : tensor<16x16xf32>)
      {method = #attnflow.rnn_method<quasi_newton>, max_iterations = 32,
       tolerance = 1.0e-5 : f64}
      : tensor<3x16xf32>, tensor<3x64x16xf32> -> tensor<3x64x16xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<16xf32>, %ut: tensor<16xf32>, %wr: tensor<16x16xf32>):
        %pre = linalg.matvec ins(%wr, %hp : tensor<16x16xf32>, tensor<16xf32>)
                             outs(%ut : tensor<16xf32>) -> tensor<16xf32>
        %t = math.tanh %pre : tensor<16xf32>
        attnflow.yield %t : tensor<16xf32>
      }
  return %h, %it : tensor<3x64x16xf32>, tensor<i64>
}

// CHECK-LABEL: llvm.func @sequential(
// CHECK:         llvm.call @mgpuMemAlloc
// CHECK:         gpu.launch_func
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK:         llvm.cond_br
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK:         gpu.launch_func
// CHECK-NOT:     gpu.launch_func
// CHECK:         llvm.br ^bb1
func.func @sequential(%h0: tensor<3x16xf32>, %u: tensor<3x64x16xf32>,
                      %w: tensor<16x16xf32>)
    -> (tensor<3x64x16xf32>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u (%w : tensor<16x16xf32>)
      {method = #attnflow.rnn_method<sequential>}
      : tensor<3x16xf32>, tensor<3x64x16xf32> -> tensor<3x64x16xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<16xf32>, %ut: tensor<16xf32>, %wr: tensor<16x16xf32>):
        %pre = linalg.matvec ins(%wr, %hp : tensor<16x16xf32>, tensor<16xf32>)
                             outs(%ut : tensor<16xf32>) -> tensor<16xf32>
        %t = math.tanh %pre : tensor<16xf32>
        attnflow.yield %t : tensor<16xf32>
      }
  return %h, %it : tensor<3x64x16xf32>, tensor<i64>
}
