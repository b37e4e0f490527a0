"""AttnFlow Python package (DESIGN §5).

- :mod:`attnflow.reference`: float64 numpy reference of every op (DESIGN §3).
- :mod:`attnflow.random_features`: seeded FAVOR+ projections and k-means
  codebooks (operands of linear_attention and vq_attention).
- :mod:`attnflow.ir`: builders that emit AttnFlow MLIR text.
- :func:`attnflow.run`: JIT-compiles and runs a module on numpy arrays through
  the ``attnflow-run`` tool (:mod:`attnflow.runner`).
"""

from . import ir, random_features, reference
from .runner import run

__all__ = ["ir", "random_features", "reference", "run"]
