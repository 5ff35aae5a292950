"""scikit-learn's side of bench/kmeans-vs-sklearn.mjs.

Usage: sklearn_kmeans.py DATA.npy INIT.npy LABELS_OUT.bin MAX_ITER REPEATS

Fits KMeans(init=<given centres>, n_init=1, algorithm="lloyd", tol=0) single-threaded, once to warm up
and then REPEATS times, timing only .fit(). Writes the last fit's labels (int32, raw) to LABELS_OUT.bin
and prints one JSON object on stdout.
"""
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_info, threadpool_limits


def main() -> None:
    data_path, init_path, labels_path = sys.argv[1:4]
    max_iter, repeats = int(sys.argv[4]), int(sys.argv[5])
    X = np.load(data_path)
    init = np.load(init_path)
    if not (X.dtype == np.float64 and X.flags.c_contiguous and init.shape == (init.shape[0], X.shape[1])):
        raise SystemExit(f"unexpected input: X {X.dtype} {X.shape}, init {init.shape}")

    def fit():
        # Built outside the timer: only .fit() is measured (validation, centring, Lloyd, inertia).
        model = KMeans(n_clusters=init.shape[0], init=init, n_init=1, algorithm="lloyd", max_iter=max_iter, tol=0.0)
        start = time.perf_counter()
        model.fit(X)
        return time.perf_counter() - start, model

    # The environment already asks for 1 thread (OMP/OPENBLAS/MKL_NUM_THREADS); this makes sure of it
    # for OpenMP (sklearn's Lloyd loop) and BLAS (its chunked gemm) alike, whatever the env says.
    with threadpool_limits(limits=1):
        pools = threadpool_info()
        fit()  # warm-up: first-call costs (lazy imports, page faults) are not what we compare
        times = []
        for _ in range(repeats):
            seconds, model = fit()
            times.append(seconds)

    model.labels_.astype(np.int32).tofile(labels_path)
    print(json.dumps({
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "threadpools": [
            {key: pool.get(key) for key in ("user_api", "internal_api", "prefix", "version", "architecture", "threading_layer", "num_threads")}
            for pool in pools
        ],
        # what KMeans itself decided to use for its OpenMP loop (private, but the honest answer)
        "kmeans_n_threads": getattr(model, "_n_threads", None),
        "openblas_env": {name: os.environ.get(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "times": times,
        "best": min(times),
        "median": statistics.median(times),
        "n_iter": int(model.n_iter_),
        "inertia": float(model.inertia_),
    }))


if __name__ == "__main__":
    main()
