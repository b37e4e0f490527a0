// --repeat=N (after --warmup=M untimed runs) prints min and median times;
// the outputs are those of the last run.
//
// RUN: %python %S/Inputs/npytool.py save %t.x.npy "np.arange(8, dtype=np.float32)"
// RUN: attnflow-run %s --input=%t.x.npy --repeat=5 --warmup=2 --output=%t.o.npy | FileCheck %s
// RUN: %python %S/Inputs/npytool.py assert "np.array_equal(o, 2 * x)" x=%t.x.npy o=%t.o.npy
// RUN: attnflow-run %s --input=%t.x.npy --repeat=1 --warmup=0 | FileCheck %s --check-prefix=ONE
// RUN: attnflow-run %s --input=%t.x.npy --repeat=4 | FileCheck %s --check-prefix=DEFAULT-WARMUP
//
// Without --repeat nothing is printed.
// RUN: attnflow-run %s --input=%t.x.npy | count 0

// CHECK: {{^}}min {{[0-9]+\.[0-9]+}} ms, median {{[0-9]+\.[0-9]+}} ms over 5 runs{{$}}
// CHECK-NOT: {{.}}
// ONE: {{^}}min {{[0-9]+\.[0-9]+}} ms, median {{[0-9]+\.[0-9]+}} ms over 1 run{{$}}
// DEFAULT-WARMUP: over 4 runs

func.func @main(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %y = linalg.add ins(%x, %x : tensor<8xf32>, tensor<8xf32>)
                  outs(%e : tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}
