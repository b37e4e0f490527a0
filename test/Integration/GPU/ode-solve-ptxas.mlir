// REQUIRES: ptxas
// An ode_solve on the GPU path (RK4 on a decreasing explicit grid, f16
// state, trajectory): the step loop stays in host code, its t_n / h_n switch
// too; every stage's velocity, stage combination and the trajectory row are
// kernels launched inside the loop; the buffers they use are allocated once
// before it (attnflow-gpu-hoist-loop-buffers) and freed after it. The PTX
// assembles for sm_80 and sm_90.
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.sm_80.ptx -o %t.sm_80.cubin
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.sm_90.ptx -o %t.sm_90.cubin
// RUN: attnflow-opt %s --attnflow-gpu-pipeline="chip=sm_90" | FileCheck %s

// CHECK-LABEL: llvm.func @traj
// CHECK-COUNT-6: llvm.call @mgpuMemAlloc
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK:         llvm.cond_br
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK:         llvm.switch
// CHECK-NOT:     llvm.call @mgpuMemAlloc
// CHECK-COUNT-8: gpu.launch_func
// CHECK-NOT:     gpu.launch_func
// CHECK:         llvm.call @mgpuMemAlloc
// CHECK:         llvm.call @mgpuMemcpy
// CHECK-COUNT-6: llvm.call @mgpuMemFree
func.func @traj(%x0: tensor<8x4xf16>, %a: tensor<8x4xf32>) -> tensor<4x8x4xf16> {
  %r = attnflow.ode_solve %x0 (%a : tensor<8x4xf32>) {method = #attnflow.ode_method<rk4>, time_grid = array<f64: 1.0, 0.6, 0.25, 0.0>, return_trajectory = true} : tensor<8x4xf16> -> tensor<4x8x4xf16> velocity {
  ^bb0(%x: tensor<8x4xf16>, %t: f32, %p: tensor<8x4xf32>):
    %e = tensor.empty() : tensor<8x4xf16>
    %v = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%x, %p : tensor<8x4xf16>, tensor<8x4xf32>) outs(%e : tensor<8x4xf16>) {
    ^bb0(%xi: f16, %pi: f32, %o: f16):
      %xe = arith.extf %xi : f16 to f32
      %m = arith.mulf %xe, %pi : f32
      %s = arith.addf %m, %t : f32
      %r16 = arith.truncf %s : f32 to f16
      linalg.yield %r16 : f16
    } -> tensor<8x4xf16>
    attnflow.yield %v : tensor<8x4xf16>
  }
  return %r : tensor<4x8x4xf16>
}
