//===- AttnFlowAttrs.cpp - attnflow attributes ----------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace mlir;
using namespace mlir::attnflow;

FailureOr<APFloat> mlir::attnflow::parseF64Parameter(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

FailureOr<std::optional<APFloat>>
mlir::attnflow::parseOptionalF64Parameter(AsmParser &parser) {
  FailureOr<APFloat> value = parseF64Parameter(parser);
  if (failed(value))
    return failure();
  return std::optional<APFloat>(*value);
}

void mlir::attnflow::printF64Parameter(AsmPrinter &printer,
                                       const APFloat &apValue) {
  double value = apValue.convertToDouble();
  // Shortest %g form that round-trips; MLIR's lexer needs a '.' in a float.
  std::string text;
  for (int precision = 1; precision <= 17; ++precision) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    text = buffer;
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  if (std::isfinite(value) && text.find('.') == std::string::npos) {
    size_t exponent = text.find('e');
    text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
  }
  printer << text;
}

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.cpp.inc"

void AttnFlowDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// RopeScalingAttr
//===----------------------------------------------------------------------===//

LogicalResult
RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        RopeScalingKind kind, APFloat factorAP,
                        std::optional<int64_t> originalMaxPosition,
                        APFloat betaFastAP, APFloat betaSlowAP,
                        APFloat lowFreqFactorAP, APFloat highFreqFactorAP,
                        std::optional<APFloat> attentionFactor) {
  double factor = factorAP.convertToDouble();
  double betaFast = betaFastAP.convertToDouble();
  double betaSlow = betaSlowAP.convertToDouble();
  double lowFreqFactor = lowFreqFactorAP.convertToDouble();
  double highFreqFactor = highFreqFactorAP.convertToDouble();
  StringRef name = stringifyRopeScalingKind(kind);
  if (!(factor > 0.0) || !std::isfinite(factor))
    return emitError() << "rope_scaling factor must be a finite value > 0, got "
                       << factor;
  bool needsL0 = kind == RopeScalingKind::dynamic_ntk ||
                 kind == RopeScalingKind::yarn ||
                 kind == RopeScalingKind::llama3;
  if (needsL0 && !originalMaxPosition)
    return emitError() << "rope_scaling kind '" << name
                       << "' requires original_max_position";
  if (originalMaxPosition && *originalMaxPosition <= 0)
    return emitError() << "rope_scaling original_max_position must be > 0, got "
                       << *originalMaxPosition;
  if (kind == RopeScalingKind::yarn && (!(betaFast > 0.0) || !(betaSlow > 0.0)))
    return emitError() << "rope_scaling yarn needs beta_fast > 0 and "
                          "beta_slow > 0, got beta_fast = "
                       << betaFast << ", beta_slow = " << betaSlow;
  if (kind == RopeScalingKind::llama3 &&
      !(lowFreqFactor > 0.0 && highFreqFactor > lowFreqFactor))
    return emitError() << "rope_scaling llama3 needs 0 < low_freq_factor < "
                          "high_freq_factor, got low_freq_factor = "
                       << lowFreqFactor
                       << ", high_freq_factor = " << highFreqFactor;
  if (attentionFactor && !(attentionFactor->convertToDouble() > 0.0))
    return emitError() << "rope_scaling attention_factor must be > 0, got "
                       << attentionFactor->convertToDouble();
  return success();
}

double RopeScalingAttr::getEffectiveAttentionFactor() const {
  if (getKind() != RopeScalingKind::yarn)
    return 1.0;
  if (std::optional<APFloat> explicitFactor = getAttentionFactor())
    return explicitFactor->convertToDouble();
  // Hugging Face `get_mscale(factor)`.
  double factor = getFactor().convertToDouble();
  return factor <= 1.0 ? 1.0 : 0.1 * std::log(factor) + 1.0;
}
