"""A small gradient-boosted tree classifier that ships as npz + JSON (no pickle).

Training uses scikit-learn's HistGradientBoostingClassifier (binary log-loss; Ke et al., "LightGBM",
NeurIPS 2017, as implemented in scikit-learn). Its trees are then packed into flat arrays, so the
shipped model is plain numbers that `numpy.load(allow_pickle=False)` can read and prediction is a
vectorised walk of all trees at once:

    raw(x) = baseline + sum_t value_t(leaf_t(x)),   P(content | x) = 1 / (1 + exp(-raw(x)))

where leaf_t(x) follows "x[feature] <= threshold goes left" from the root of tree t (leaf values
already include the learning rate). Features never contain NaN, so missing-value routing is not
needed.

For the walk, each tree's nodes are laid out breadth first with the two children of a node side by
side, so one step is `node = left[node] + (x[feature[node]] > threshold[node])`; a leaf is its own
left child with threshold +inf, so walking past it stays on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from classify.clean.features import stacked_features

_BLOCK_CELLS = 1 << 14  # rows x trees per block of `decision_function`: 128 KiB per int64 temporary


class TreeContentClassifier:
    """Binary content/noise classifier: fit with scikit-learn, predict with numpy only.

    Parameters mirror HistGradientBoostingClassifier's; `feature_names` are stored with the model
    so a model can refuse features computed by a different version of the code.
    """

    def __init__(
        self,
        max_iter: int = 300,
        learning_rate: float = 0.08,
        max_leaf_nodes: int = 31,
        max_depth: int | None = 6,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
        random_state: int = 0,
        feature_names: list[str] | None = None,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth  # bounds the prediction walk: cost is depth x trees per row
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.feature_names = feature_names
        self.metadata: dict[str, Any] = {}

    def fit(self, X: np.ndarray, y: np.ndarray) -> TreeContentClassifier:
        from sklearn.ensemble import HistGradientBoostingClassifier  # training-time only

        model = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(X, np.asarray(y, dtype=int))
        self._pack(model)
        return self

    def _pack(self, model: Any) -> None:
        features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
        offset, depth = 0, 0
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            n = len(nodes)
            leaf = nodes["is_leaf"].astype(bool)
            index = np.arange(n) + offset
            # Leaves point to themselves, so walking a fixed number of steps is harmless.
            lefts.append(np.where(leaf, index, nodes["left"] + offset))
            rights.append(np.where(leaf, index, nodes["right"] + offset))
            features.append(np.where(leaf, 0, nodes["feature_idx"]))
            thresholds.append(nodes["num_threshold"])
            values.append(np.where(leaf, nodes["value"], 0.0))
            roots.append(offset)
            depth = max(depth, int(nodes["depth"].max()))
            offset += n
        self._set_trees(
            np.concatenate(features), np.concatenate(thresholds), np.concatenate(lefts),
            np.concatenate(rights), np.concatenate(values), np.asarray(roots),
        )
        self.depth_ = depth
        self.baseline_ = float(np.ravel(model._baseline_prediction)[0])

    def _set_trees(
        self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
        value: np.ndarray, roots: np.ndarray,
    ) -> None:
        """Store the trees with siblings side by side (see the module docstring): nodes are
        renumbered breadth first within each tree, which keeps every tree's leaves and values,
        so predictions are unchanged. Accepts any valid layout, so older model files load too."""
        n = len(feature)
        is_leaf = left == np.arange(n)
        order: list[int] = []  # new position -> old node
        new_index = np.empty(n, dtype=np.int64)
        new_roots = []
        for root in roots.tolist():
            new_roots.append(len(order))
            new_index[root] = len(order)
            order.append(root)
            head = len(order) - 1
            while head < len(order):  # breadth first over this tree
                old = order[head]
                head += 1
                if not is_leaf[old]:
                    for child in (int(left[old]), int(right[old])):
                        new_index[child] = len(order)
                        order.append(child)
        old = np.asarray(order)
        leaf = is_leaf[old]
        self.feature_ = np.where(leaf, 0, feature[old]).astype(np.intp)
        self.threshold_ = np.where(leaf, np.inf, threshold[old]).astype(np.float64)
        self.left_ = np.where(leaf, np.arange(n), new_index[left[old]]).astype(np.intp)
        self.right_ = np.where(leaf, np.arange(n), self.left_ + 1).astype(np.intp)
        self.value_ = np.where(leaf, value[old], 0.0).astype(np.float64)
        self.roots_ = np.asarray(new_roots, dtype=np.intp)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        # Rows go through the trees a block at a time: each descent step makes rows x trees
        # temporaries, and a block's fit in the core's cache where a batch's (megabytes) stream
        # through memory, which made scoring 2x slower, and slower still with a second process.
        step = max(1, _BLOCK_CELLS // max(1, len(self.roots_)))
        blocks = [self._block_decision(X[start : start + step]) for start in range(0, X.shape[0], step)]
        return np.concatenate(blocks) if blocks else np.zeros(0)

    def _block_decision(self, X: np.ndarray) -> np.ndarray:
        flat = X.ravel()
        # Offset of each row's first feature in the flattened block, one column per tree.
        row_offset = (np.arange(X.shape[0]) * X.shape[1])[:, None]
        # Step one is the same node (each tree's root) for every row: no gather of node data.
        roots = self.roots_
        node = self.left_[roots] + (X[:, self.feature_[roots]] > self.threshold_[roots])
        # Indices are valid by construction, so take's bounds check is skipped (mode="clip").
        feature, threshold, left = self.feature_, self.threshold_, self.left_
        for _ in range(self.depth_ - 1):
            x = flat.take(row_offset + feature.take(node, mode="clip"), mode="clip")
            node = left.take(node, mode="clip") + (x > threshold.take(node, mode="clip"))
        return self.baseline_ + self.value_.take(node, mode="clip").sum(axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Column 1 is P(content)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return self.predict_proba(X)[:, 1] >= threshold

    def save(self, path: str | Path) -> None:
        """Write `path`.npz (the trees) and `path`.json (parameters, feature names, metadata)."""
        path = Path(path)
        np.savez_compressed(
            path.with_suffix(".npz"),
            feature=self.feature_, threshold=self.threshold_, left=self.left_, right=self.right_,
            value=self.value_, roots=self.roots_,
        )
        meta = {
            "format": "classify.clean.TreeContentClassifier/1",
            "params": {
                "max_iter": self.max_iter, "learning_rate": self.learning_rate,
                "max_leaf_nodes": self.max_leaf_nodes, "max_depth": self.max_depth,
                "min_samples_leaf": self.min_samples_leaf,
                "l2_regularization": self.l2_regularization, "random_state": self.random_state,
            },
            "baseline": self.baseline_,
            "depth": self.depth_,
            "feature_names": self.feature_names,
            "metadata": self.metadata,
        }
        path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TreeContentClassifier:
        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text())
        model = cls(**meta["params"], feature_names=meta["feature_names"])
        model.metadata = meta.get("metadata", {})
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
            model._set_trees(*(arrays[name] for name in ("feature", "threshold", "left", "right", "value", "roots")))
        model.depth_ = int(meta["depth"])
        model.baseline_ = float(meta["baseline"])
        return model


class StackedLineClassifier:
    """Two-stage classifier of a document's text lines (stacked generalisation; Wolpert, "Stacked
    generalization", Neural Networks 1992).

    Stage 1 is a `TreeContentClassifier` over each line's own and nearby-line features, giving
    p_i. Stage 2 is another over `classify.clean.features.stacked_features(X, p)`: p smoothed over
    the document, where the line lies relative to the best contiguous content segment, and the
    line's cheap text features. Stage 2 is trained on stage-1 probabilities that are out of fold
    (GroupKFold by `groups` inside `fit`), so it learns how far to trust stage 1 on unseen pages,
    not on pages stage 1 has memorised.

    The reported probability is the mean of both stages' (`combine_stages`).

    Saved as `path`.{npz,json} (stage 1) and `path`_stacked.{npz,json} (stage 2, which carries the
    thresholds in its metadata).
    """

    def __init__(
        self,
        first_params: dict[str, Any] | None = None,
        second_params: dict[str, Any] | None = None,
        inner_folds: int = 4,
        random_state: int = 0,
        feature_names: list[str] | None = None,
        stacked_feature_names: list[str] | None = None,
    ) -> None:
        self.first_params = first_params or {}
        self.second_params = second_params or {}
        self.inner_folds = inner_folds
        self.random_state = random_state
        self.feature_names = feature_names
        self.stacked_feature_names = stacked_feature_names

    @property
    def metadata(self) -> dict[str, Any]:
        return self.second_.metadata

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        self.second_.metadata = value

    def _first(self) -> TreeContentClassifier:
        return TreeContentClassifier(
            **self.first_params, random_state=self.random_state, feature_names=self.feature_names
        )

    def fit(
        self, X: np.ndarray, y: np.ndarray, groups: np.ndarray, documents: np.ndarray
    ) -> StackedLineClassifier:
        """Fit on rows `X` of many documents: `documents` tells which rows form one document (rows
        of a document are contiguous and in order), `groups` which rows share a source page (no
        inner fold trains and scores the same page)."""
        from sklearn.model_selection import GroupKFold  # training-time only

        self.out_of_fold_ = np.zeros(len(y))  # stage-1 P(content) of each training row, out of fold
        for train, test in GroupKFold(n_splits=self.inner_folds).split(X, y, groups):
            self.out_of_fold_[test] = self._first().fit(X[train], y[train]).predict_proba(X[test])[:, 1]
        self.first_ = self._first().fit(X, y)
        self.second_ = TreeContentClassifier(
            **self.second_params, random_state=self.random_state, feature_names=self.stacked_feature_names
        ).fit(stacked_rows(X, self.out_of_fold_, documents), y)
        return self

    def predict_proba_documents(self, X: np.ndarray, documents: np.ndarray) -> np.ndarray:
        """Column 1 is P(content) = (p1 + p2) / 2, for rows of several documents (as in `fit`).

        The mean of both stages: in grouped CV on page dumps stage 2 alone kept more article lines
        at a given precision where recall is high, but lost recall at the strict end, where stage 1
        is sharper; their mean was as good as the better of the two at both ends."""
        first = self.first_.predict_proba(X)[:, 1]
        return combine_stages(first, self.second_.predict_proba(stacked_rows(X, first, documents))[:, 1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Column 1 is P(content), for the rows of one document."""
        return self.predict_proba_documents(X, np.zeros(len(X), dtype=int))

    def save(self, path: str | Path) -> None:
        path = Path(path)
        self.first_.save(path)
        self.second_.save(path.with_name(path.name + "_stacked"))

    @classmethod
    def load(cls, path: str | Path) -> StackedLineClassifier:
        path = Path(path)
        first = TreeContentClassifier.load(path)
        second = TreeContentClassifier.load(path.with_name(path.name + "_stacked"))
        model = cls(
            first_params=_params(first), second_params=_params(second), random_state=first.random_state,
            feature_names=first.feature_names, stacked_feature_names=second.feature_names,
        )
        model.first_, model.second_ = first, second
        return model


def _params(model: TreeContentClassifier) -> dict[str, Any]:
    return {
        "max_iter": model.max_iter, "learning_rate": model.learning_rate, "max_leaf_nodes": model.max_leaf_nodes,
        "max_depth": model.max_depth, "min_samples_leaf": model.min_samples_leaf,
        "l2_regularization": model.l2_regularization,
    }


def combine_stages(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """[P(noise), P(content)] columns from both stages' P(content): their mean."""
    p = (first + second) / 2.0
    return np.column_stack([1.0 - p, p])


def stacked_rows(X: np.ndarray, p: np.ndarray, documents: np.ndarray) -> np.ndarray:
    """Stage-2 features of every row, computed document by document (rows contiguous per document)."""
    if len(X) == 0:
        return stacked_features(X, p)
    starts = np.flatnonzero(np.concatenate([[True], documents[1:] != documents[:-1]]))
    stops = np.concatenate([starts[1:], [len(X)]])
    return np.vstack([stacked_features(X[a:b], p[a:b]) for a, b in zip(starts, stops)])
