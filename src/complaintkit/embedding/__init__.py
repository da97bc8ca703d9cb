"""Sentence embeddings: which models exist offline (models), where vectors are kept (cache),
the encoder's precision (precision), and the scikit-learn transformer (embedder).

Nothing is imported until a name is used.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["EmbeddingCache", "RecentVectors", "default_cache_dir"], ".cache"),
    **dict.fromkeys(["SentenceTransformerEmbedder", "run_settings"], ".embedder"),
    **dict.fromkeys(["DEFAULT_MODEL", "ENGLISH_ONLY_MODELS", "MODEL_ALIASES", "load_sentence_transformer",
                     "model_fingerprint", "offline_hub", "resolve_model_path"], ".models"),
    **dict.fromkeys(["PRECISIONS", "PRECISION_CHOICES", "check_precision", "cpu_flags", "default_batch_size",
                     "encoder_runtime", "native_bf16_flag", "resolve_precision"], ".precision"),
})
__all__ = __dir__()
