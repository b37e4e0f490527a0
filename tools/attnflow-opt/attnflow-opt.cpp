//===- attnflow-opt.cpp - mlir-opt with the attnflow dialect --------------===//
//
// Every upstream dialect and pass plus the attnflow dialect, its passes and
// the named pipelines (DESIGN.md §5).
//
//===----------------------------------------------------------------------===//

#include "attnflow/InitAttnFlow.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::attnflow::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::attnflow::registerAllDialects(registry);
  mlir::attnflow::registerAllTranslations(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "AttnFlow optimizer driver\n", registry));
}
