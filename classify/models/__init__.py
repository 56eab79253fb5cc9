"""Stage 3: topic and stance models — hashed n-gram features, calibrated linear classifiers.

    from classify.models import load_models, classify_documents
    bundle = load_models()                      # models/ of the repo, or $CLASSIFY_MODELS
    classify_documents(docs, bundle, target="ОДКБ")
"""

from classify.models.bundle import ModelBundle, classify_documents, default_models_dir, load_models, model_files
from classify.models.model import ModelError, TextModel
from classify.models.training import cross_validate, evaluate, train

__all__ = [
    "ModelBundle",
    "ModelError",
    "TextModel",
    "classify_documents",
    "cross_validate",
    "default_models_dir",
    "evaluate",
    "load_models",
    "model_files",
    "train",
]
