//===- InitAttnFlow.cpp - Register AttnFlow with MLIR ---------------------===//

#include "attnflow/InitAttnFlow.h"

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"
#include "attnflow/Pipelines/Pipelines.h"
#include "attnflow/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

void mlir::attnflow::registerAllDialects(DialectRegistry &registry) {
  registry.insert<AttnFlowDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void mlir::attnflow::registerAllTranslations(DialectRegistry &registry) {
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  // gpu-module-to-binary translates NVVM kernels; host code embeds the
  // resulting gpu.binary.
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
}

void mlir::attnflow::registerAllPasses() {
  static bool registered = [] {
    mlir::registerAllPasses();
    registerAttnFlowConversionPasses();
    registerAttnFlowTransformsPasses();
    registerAttnFlowGenericTransformsPasses();
    registerAttnFlowPipelines();
    return true;
  }();
  (void)registered;
}
