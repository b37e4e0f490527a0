//===- GPUMergeModules.cpp - One gpu.module for all kernels ---------------===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_GPUMERGEMODULESPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {

struct GPUMergeModulesPass
    : mlir::attnflow::impl::GPUMergeModulesPassBase<GPUMergeModulesPass> {
  void runOnOperation() override {
    auto modules = llvm::to_vector(getOperation().getOps<gpu::GPUModuleOp>());
    if (modules.size() < 2)
      return;
    gpu::GPUModuleOp target = modules.front();
    for (gpu::GPUModuleOp source : llvm::drop_begin(modules))
      if (source.getTargetsAttr() != target.getTargetsAttr()) {
        source.emitError() << "cannot merge GPU modules with different "
                              "targets";
        return signalPassFailure();
      }
    SymbolTable targetSymbols(target);
    for (gpu::GPUModuleOp source : llvm::drop_begin(modules)) {
      // Outlining names each module uniquely but may reuse kernel names
      // across modules (`main_kernel` in `main_kernel` and `main_kernel_0`):
      // a moved kernel whose name is taken gets its module's name.
      llvm::StringMap<StringAttr> renamed;
      for (Operation &op : llvm::make_early_inc_range(
               source.getBodyRegion().front().without_terminator())) {
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (Operation *existing =
                symbol ? targetSymbols.lookup(symbol.getName()) : nullptr) {
          // Other symbols with one name are copies of one global (e.g. a
          // constant table two kernels read): keep the first.
          if (!isa<gpu::GPUFuncOp>(op)) {
            if (!OperationEquivalence::isEquivalentTo(
                    existing, &op, OperationEquivalence::IgnoreLocations)) {
              op.emitError() << "GPU modules define different symbols named '"
                             << symbol.getName() << "'";
              return signalPassFailure();
            }
            continue;
          }
          StringAttr unique = source.getNameAttr();
          if (targetSymbols.lookup(unique)) {
            op.emitError() << "cannot give kernel '" << symbol.getName()
                           << "' a unique name in the merged GPU module";
            return signalPassFailure();
          }
          renamed[symbol.getName()] = unique;
          symbol.setName(unique);
        }
        // SymbolTable::insert appends (before a terminator, if any).
        op.remove();
        if (symbol)
          targetSymbols.insert(&op);
        else
          target.getBodyRegion().front().push_back(&op);
      }
      getOperation().walk([&](gpu::LaunchFuncOp launch) {
        // Launches in nested modules refer to their own GPU modules.
        if (launch->getParentOfType<ModuleOp>() != getOperation() ||
            launch.getKernelModuleName() != source.getName())
          return;
        StringAttr kernel = launch.getKernelName();
        if (StringAttr name = renamed.lookup(kernel.getValue()))
          kernel = name;
        launch.setKernelAttr(SymbolRefAttr::get(
            target.getNameAttr(), {FlatSymbolRefAttr::get(kernel)}));
      });
      source.erase();
    }
  }
};

} // namespace
