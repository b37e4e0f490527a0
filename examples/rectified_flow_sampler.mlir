// A rectified-flow sampler (Liu et al. 2023, "Flow Straight and Fast"; the
// classifier-free-guided sampling of Esser et al. 2024, "Scaling Rectified
// Flow Transformers", §2): B = 64 class-conditional 8x8 images (D = 64
// pixels, flattened) are integrated from noise at t = 0 to data at t = 1
// along dx/dt = v(x, t, class). The velocity is a 2-hidden-layer SiLU MLP of
// width H = 256 on [x, t] plus the class embedding, evaluated twice per
// stage (with the class embedding and with the null, zero, embedding) and
// combined with guidance scale w = 3.0:
//   a = x Wx + t wt + b1,  v(e) = silu(silu(a + e) W2 + b2) W3 + b3,
//   v = v(0) + w (v(emb) - v(0))
// (python/attnflow/flow.py builds this text and computes the same network in
// float64). Weights are inputs: examples/run_examples.py draws them seeded.
// @euler8 takes 8 Euler steps (rectified flow's sampler), @rk4_4 4 classical
// RK4 steps (16 velocity evaluations); the guidance combination is the
// velocity's last elementwise op, into which the lowering fuses each step's
// state update.

func.func @euler8(%x0: tensor<64x64xf32>, %in0: tensor<64x256xf32>, %in1: tensor<256xf32>, %in2: tensor<64x256xf32>, %in3: tensor<256xf32>, %in4: tensor<256x256xf32>, %in5: tensor<256xf32>, %in6: tensor<256x64xf32>, %in7: tensor<64xf32>) -> tensor<64x64xf32> {
  %r = attnflow.ode_solve %x0 (%in0, %in1, %in2, %in3, %in4, %in5, %in6, %in7 : tensor<64x256xf32>, tensor<256xf32>, tensor<64x256xf32>, tensor<256xf32>, tensor<256x256xf32>, tensor<256xf32>, tensor<256x64xf32>, tensor<64xf32>) {method = #attnflow.ode_method<euler>, num_steps = 8 : i64} : tensor<64x64xf32> -> tensor<64x64xf32> velocity {
  ^bb0(%x: tensor<64x64xf32>, %t: f32, %p0: tensor<64x256xf32>, %p1: tensor<256xf32>, %p2: tensor<64x256xf32>, %p3: tensor<256xf32>, %p4: tensor<256x256xf32>, %p5: tensor<256xf32>, %p6: tensor<256x64xf32>, %p7: tensor<64xf32>):
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %w = arith.constant 3.0 : f32
    %eh = tensor.empty() : tensor<64x256xf32>
    %ed = tensor.empty() : tensor<64x64xf32>
    %zh = linalg.fill ins(%zero : f32) outs(%eh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %zd = linalg.fill ins(%zero : f32) outs(%ed : tensor<64x64xf32>) -> tensor<64x64xf32>
    %xw = linalg.matmul ins(%x, %p0 : tensor<64x64xf32>, tensor<64x256xf32>) outs(%zh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %pre = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%xw, %p1, %p3 : tensor<64x256xf32>, tensor<256xf32>, tensor<256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %i2: f32, %o: f32):
      %tw = arith.mulf %t, %i1 : f32
      %u = arith.addf %i0, %tw : f32
      %y = arith.addf %u, %i2 : f32
      linalg.yield %y : f32
    } -> tensor<64x256xf32>
    %h1c = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%pre, %p2 : tensor<64x256xf32>, tensor<64x256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %z = arith.addf %i0, %i1 : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %m2c = linalg.matmul ins(%h1c, %p4 : tensor<64x256xf32>, tensor<256x256xf32>) outs(%zh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %h2c = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%m2c, %p5 : tensor<64x256xf32>, tensor<256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %z = arith.addf %i0, %i1 : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %oc = linalg.matmul ins(%h2c, %p6 : tensor<64x256xf32>, tensor<256x64xf32>) outs(%zd : tensor<64x64xf32>) -> tensor<64x64xf32>
    %h1u = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%pre : tensor<64x256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %o: f32):
      %z = arith.addf %i0, %zero : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %m2u = linalg.matmul ins(%h1u, %p4 : tensor<64x256xf32>, tensor<256x256xf32>) outs(%zh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %h2u = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%m2u, %p5 : tensor<64x256xf32>, tensor<256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %z = arith.addf %i0, %i1 : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %ou = linalg.matmul ins(%h2u, %p6 : tensor<64x256xf32>, tensor<256x64xf32>) outs(%zd : tensor<64x64xf32>) -> tensor<64x64xf32>
    %ev = tensor.empty() : tensor<64x64xf32>
    %vel = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%ou, %oc, %p7 : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>) outs(%ev : tensor<64x64xf32>) {
    ^bb0(%i0: f32, %i1: f32, %i2: f32, %o: f32):
      %ub = arith.addf %i0, %i2 : f32
      %dc = arith.subf %i1, %i0 : f32
      %g = arith.mulf %w, %dc : f32
      %v = arith.addf %ub, %g : f32
      linalg.yield %v : f32
    } -> tensor<64x64xf32>
    attnflow.yield %vel : tensor<64x64xf32>
  }
  return %r : tensor<64x64xf32>
}

func.func @rk4_4(%x0: tensor<64x64xf32>, %in0: tensor<64x256xf32>, %in1: tensor<256xf32>, %in2: tensor<64x256xf32>, %in3: tensor<256xf32>, %in4: tensor<256x256xf32>, %in5: tensor<256xf32>, %in6: tensor<256x64xf32>, %in7: tensor<64xf32>) -> tensor<64x64xf32> {
  %r = attnflow.ode_solve %x0 (%in0, %in1, %in2, %in3, %in4, %in5, %in6, %in7 : tensor<64x256xf32>, tensor<256xf32>, tensor<64x256xf32>, tensor<256xf32>, tensor<256x256xf32>, tensor<256xf32>, tensor<256x64xf32>, tensor<64xf32>) {method = #attnflow.ode_method<rk4>, num_steps = 4 : i64} : tensor<64x64xf32> -> tensor<64x64xf32> velocity {
  ^bb0(%x: tensor<64x64xf32>, %t: f32, %p0: tensor<64x256xf32>, %p1: tensor<256xf32>, %p2: tensor<64x256xf32>, %p3: tensor<256xf32>, %p4: tensor<256x256xf32>, %p5: tensor<256xf32>, %p6: tensor<256x64xf32>, %p7: tensor<64xf32>):
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %w = arith.constant 3.0 : f32
    %eh = tensor.empty() : tensor<64x256xf32>
    %ed = tensor.empty() : tensor<64x64xf32>
    %zh = linalg.fill ins(%zero : f32) outs(%eh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %zd = linalg.fill ins(%zero : f32) outs(%ed : tensor<64x64xf32>) -> tensor<64x64xf32>
    %xw = linalg.matmul ins(%x, %p0 : tensor<64x64xf32>, tensor<64x256xf32>) outs(%zh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %pre = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%xw, %p1, %p3 : tensor<64x256xf32>, tensor<256xf32>, tensor<256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %i2: f32, %o: f32):
      %tw = arith.mulf %t, %i1 : f32
      %u = arith.addf %i0, %tw : f32
      %y = arith.addf %u, %i2 : f32
      linalg.yield %y : f32
    } -> tensor<64x256xf32>
    %h1c = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%pre, %p2 : tensor<64x256xf32>, tensor<64x256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %z = arith.addf %i0, %i1 : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %m2c = linalg.matmul ins(%h1c, %p4 : tensor<64x256xf32>, tensor<256x256xf32>) outs(%zh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %h2c = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%m2c, %p5 : tensor<64x256xf32>, tensor<256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %z = arith.addf %i0, %i1 : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %oc = linalg.matmul ins(%h2c, %p6 : tensor<64x256xf32>, tensor<256x64xf32>) outs(%zd : tensor<64x64xf32>) -> tensor<64x64xf32>
    %h1u = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%pre : tensor<64x256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %o: f32):
      %z = arith.addf %i0, %zero : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %m2u = linalg.matmul ins(%h1u, %p4 : tensor<64x256xf32>, tensor<256x256xf32>) outs(%zh : tensor<64x256xf32>) -> tensor<64x256xf32>
    %h2u = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%m2u, %p5 : tensor<64x256xf32>, tensor<256xf32>) outs(%eh : tensor<64x256xf32>) {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %z = arith.addf %i0, %i1 : f32
      %nz = arith.negf %z : f32
      %ez = math.exp %nz : f32
      %dz = arith.addf %ez, %one : f32
      %sz = arith.divf %z, %dz : f32
      linalg.yield %sz : f32
    } -> tensor<64x256xf32>
    %ou = linalg.matmul ins(%h2u, %p6 : tensor<64x256xf32>, tensor<256x64xf32>) outs(%zd : tensor<64x64xf32>) -> tensor<64x64xf32>
    %ev = tensor.empty() : tensor<64x64xf32>
    %vel = linalg.generic {indexing_maps = [affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (b, j)>, affine_map<(b, j) -> (j)>, affine_map<(b, j) -> (b, j)>], iterator_types = ["parallel", "parallel"]} ins(%ou, %oc, %p7 : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64xf32>) outs(%ev : tensor<64x64xf32>) {
    ^bb0(%i0: f32, %i1: f32, %i2: f32, %o: f32):
      %ub = arith.addf %i0, %i2 : f32
      %dc = arith.subf %i1, %i0 : f32
      %g = arith.mulf %w, %dc : f32
      %v = arith.addf %ub, %g : f32
      linalg.yield %v : f32
    } -> tensor<64x64xf32>
    attnflow.yield %vel : tensor<64x64xf32>
  }
  return %r : tensor<64x64xf32>
}
