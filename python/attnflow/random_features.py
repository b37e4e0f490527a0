"""Seeded operand generators for the linear-time attention ops (DESIGN §3).

These build the extra operands that ``attnflow.linear_attention`` and
``attnflow.vq_attention`` take, reproducibly from a seed, for tests, examples
and benchmarks:

favor_plus_projection   the random-feature matrix W [M,D] of Performer FAVOR+
kmeans_codebook         a k-means codebook [C,D] for vector_quantize /
                        vq_attention, learned from data (e.g. keys)

Both return float64 arrays; cast them to the op's element type as needed.
"""

import numpy as np

from .reference import vector_quantize

__all__ = ["favor_plus_projection", "kmeans_codebook"]


def favor_plus_projection(m, d, seed, orthogonal=True):
    """Random features W [m, d] for FAVOR+ (``linear_attention``'s
    ``projection`` with feature_map = favor_plus).

    Source: Choromanski et al. 2021, "Rethinking Attention with Performers"
    (ICLR 2021, arXiv:2009.14794), §2.3-2.4: phi(x) = exp(W x - |x|^2/2)/sqrt(m)
    with rows w_i ~ N(0, I_d) is an unbiased positive estimator of the softmax
    kernel exp(x.y); orthogonal random features (ORF, Yu et al. 2016) lower its
    variance.  As in the authors' code (``gaussian_orthogonal_random_matrix``,
    ``scaling=0``):

    orthogonal=False: w_i i.i.d. N(0, I_d).
    orthogonal=True:  ceil(m/d) independent blocks of d exactly orthogonal unit
      rows (QR of a d x d Gaussian matrix, with the sign fix diag(R) > 0 of
      Mezzadri 2007 so each block is Haar-distributed), the first m rows kept,
      each row then rescaled by an independent chi_d-distributed length (the
      norm of a fresh N(0, I_d) vector), so every row is marginally N(0, I_d)
      while rows within a block stay orthogonal.

    Args:
      m: number of random features M (>= 1).
      d: head dimension D (>= 1).
      seed: anything ``numpy.random.default_rng`` accepts (an int for
        reproducibility).
      orthogonal: block-orthogonal (default) or i.i.d. Gaussian rows.

    Returns:
      float64 [m, d].
    """
    if m < 1 or d < 1:
        raise ValueError(f"m and d must be >= 1, got m={m}, d={d}")
    rng = np.random.default_rng(seed)
    if not orthogonal:
        return rng.standard_normal((m, d))
    blocks = []
    for _ in range(-(-m // d)):
        q, r = np.linalg.qr(rng.standard_normal((d, d)))
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # Haar: diag(R) > 0
        blocks.append(q.T)  # rows orthonormal
    rows = np.concatenate(blocks, axis=0)[:m]
    lengths = np.linalg.norm(rng.standard_normal((m, d)), axis=1)  # chi_d
    return rows * lengths[:, None]


def kmeans_codebook(x, c, seed, iterations=20):
    """A codebook [c, D] fitted to the rows of x by k-means.

    Source: Lloyd's algorithm (Lloyd 1982, "Least squares quantization in
    PCM") with k-means++ seeding (Arthur & Vassilvitskii 2007); Transformer-VQ
    (Lingle 2023, arXiv:2309.16354) learns its key codebook the same way, as
    an online (EMA) k-means.  Assignment uses
    :func:`attnflow.reference.vector_quantize`, so ties go to the lowest code
    exactly as in the op.

    Args:
      x: [..., D] data, e.g. keys [B,H,S,D] (all leading dims are rows; for a
        per-head codebook [H,C,D] call this once per head and stack).
      c: number of codes (1 <= c <= number of rows).
      seed: anything ``numpy.random.default_rng`` accepts.
      iterations: Lloyd iterations after seeding (>= 0); stops early when the
        assignment no longer changes.

    Returns:
      float64 [c, D].  Each code is the mean of the rows assigned to it; a
      code that loses all its rows keeps its previous value.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 1:
        raise ValueError("x must be [..., D]")
    rows = x.reshape(-1, x.shape[-1])
    n = rows.shape[0]
    if not 1 <= c <= n:
        raise ValueError(f"need 1 <= c <= number of rows ({n}), got c={c}")
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    rng = np.random.default_rng(seed)

    # k-means++: each next seed is drawn with probability proportional to the
    # squared distance to the nearest seed so far.
    centers = np.empty((c, rows.shape[1]))
    centers[0] = rows[rng.integers(n)]
    dist2 = np.sum((rows - centers[0]) ** 2, axis=1)
    for i in range(1, c):
        total = dist2.sum()
        if total > 0:
            pick = rng.choice(n, p=dist2 / total)
        else:  # fewer distinct rows than codes: duplicate a row
            pick = rng.integers(n)
        centers[i] = rows[pick]
        dist2 = np.minimum(dist2, np.sum((rows - centers[i]) ** 2, axis=1))

    assign = None
    for _ in range(iterations):
        new_assign, _ = vector_quantize(rows, centers)
        if assign is not None and np.array_equal(new_assign, assign):
            break
        assign = new_assign
        counts = np.bincount(assign, minlength=c).astype(np.float64)
        sums = np.zeros_like(centers)
        np.add.at(sums, assign, rows)
        filled = counts > 0
        centers[filled] = sums[filled] / counts[filled, None]
    return centers
