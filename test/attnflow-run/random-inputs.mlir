// --random-inputs: floats from N(0, 1), integer tensors 0..n-1 along the last
// dimension, i1 random bits; the same seed gives the same inputs.
//
// RUN: attnflow-run %s --random-inputs --seed=7 --output=%t.f.1.npy --output=%t.h.npy --output=%t.b.npy --output=%t.d.npy --output=%t.i.npy --output=%t.j.npy --output=%t.m.npy
// RUN: attnflow-run %s --random-inputs --seed=7 --output=%t.f.2.npy --output=%t.h.npy --output=%t.b.npy --output=%t.d.npy --output=%t.i.npy --output=%t.j.npy --output=%t.m.npy
// RUN: attnflow-run %s --random-inputs --seed=8 --output=%t.f.3.npy --output=%t.h.npy --output=%t.b.npy --output=%t.d.npy --output=%t.i.npy --output=%t.j.npy --output=%t.m.npy
// RUN: %python %S/Inputs/npytool.py same %t.f.1.npy %t.f.2.npy
// RUN: not %python %S/Inputs/npytool.py same %t.f.1.npy %t.f.3.npy
//
// The generated floats look standard normal, f16 / bf16 / f64 included.
// RUN: %python %S/Inputs/npytool.py assert "abs(f.mean()) < 0.1 and abs(f.std() - 1) < 0.1 and len(np.unique(f)) > 4000" f=%t.f.1.npy
// RUN: %python %S/Inputs/npytool.py assert "h.dtype == np.float16 and abs(h.astype(np.float64).mean()) < 0.2 and abs(h.astype(np.float64).std() - 1) < 0.2" h=%t.h.npy
// RUN: %python %S/Inputs/npytool.py assert "b.dtype == np.float32 and np.all(b.view(np.uint32) & 0xffff == 0) and abs(b.std() - 1) < 0.2" b=%t.b.npy
// RUN: %python %S/Inputs/npytool.py assert "d.dtype == np.float64 and abs(d.std() - 1) < 0.2" d=%t.d.npy
//
// Integers count along the last dimension; bools are mixed.
// RUN: %python %S/Inputs/npytool.py print %t.i.npy %t.j.npy | FileCheck %s
// RUN: %python %S/Inputs/npytool.py assert "m.dtype == np.bool_ and 10 < m.sum() < 54" m=%t.m.npy

// CHECK: int64 (2, 3)
// CHECK-NEXT: {{\[\[}}0, 1, 2], [0, 1, 2]]
// CHECK-NEXT: int32 (5,)
// CHECK-NEXT: [0, 1, 2, 3, 4]

func.func @main(%f: tensor<64x64xf32>, %h: tensor<256xf16>, %b: tensor<256xbf16>,
                %d: tensor<256xf64>, %i: tensor<2x3xi64>, %j: tensor<5xi32>,
                %m: tensor<64xi1>)
    -> (tensor<64x64xf32>, tensor<256xf16>, tensor<256xbf16>, tensor<256xf64>,
        tensor<2x3xi64>, tensor<5xi32>, tensor<64xi1>) {
  return %f, %h, %b, %d, %i, %j, %m : tensor<64x64xf32>, tensor<256xf16>, tensor<256xbf16>,
      tensor<256xf64>, tensor<2x3xi64>, tensor<5xi32>, tensor<64xi1>
}
